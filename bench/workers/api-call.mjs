// A new process that uses a saved profile for one API call.
import { Auth, Session } from '@planet-auth/sdk';

const response = await new Session(Auth.fromProfile(process.argv[2])).fetch('/data/v1/searches');
process.stdout.write(`${response.status}\n`);
