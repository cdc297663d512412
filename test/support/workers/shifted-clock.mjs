// A program whose clock is off by a given number of seconds: it logs in as a
// service account (or reuses the saved session) and asks for the access
// token a few times. Prints how many distinct tokens it was handed.
const [shiftSeconds, calls] = process.argv.slice(2);
const realNow = Date.now;
Date.now = () => realNow() + Number(shiftSeconds) * 1000;

const { Auth } = await import('@planet-auth/sdk');
const auth = Auth.fromOAuthM2M({
  clientId: process.env.PLANET_EXAMPLE_M2M_CLIENT_ID,
  clientSecret: process.env.PLANET_EXAMPLE_M2M_CLIENT_SECRET,
  profileName: 'shifted-clock',
});
const tokens = new Set();
for (let i = 0; i < Number(calls); i++) {
  tokens.add(await auth.getAccessToken());
  await new Promise((resolve) => setTimeout(resolve, 50));
}
process.stdout.write(`${JSON.stringify({ ok: true, distinct: tokens.size })}\n`);
