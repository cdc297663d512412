// The demo API's check of a DPoP proof (RFC 9449, section 4.3): signed with
// the key in its own header, for this method and URL, recent, never seen
// before, bound to the access token (ath), with the API's current nonce,
// and made with the very key the token is bound to (its cnf.jkt).
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose';
import { createHash } from 'node:crypto';

export interface DpopCheck {
  /** The nonce the API currently asks for. */
  nonce: string;
  /** jti values of proofs already accepted. */
  readonly seenJti: Set<string>;
}

/** How far a proof's iat may be from the server's clock, in seconds. */
const IAT_WINDOW_SECONDS = 300;

/** Undefined reason when the proof is good; `use_dpop_nonce` when only the nonce is missing or stale. */
export async function checkDpopProof(state: DpopCheck, request: { method: string; url: string; proof: string | string[] | undefined; token: string; jkt: string }): Promise<{ reason?: string }> {
  if (typeof request.proof !== 'string' || request.proof === '') return { reason: 'no DPoP header (exactly one proof is needed)' };
  let verified;
  try {
    verified = await jwtVerify(request.proof, EmbeddedJWK, { typ: 'dpop+jwt', algorithms: ['ES256', 'PS256', 'RS256', 'EdDSA'] });
  } catch (error) {
    return { reason: `bad signature or header (${(error as Error).message})` };
  }
  const { payload, protectedHeader } = verified;
  if (payload['htm'] !== request.method) return { reason: 'htm does not match the method' };
  if (payload['htu'] !== request.url) return { reason: 'htu does not match the URL' };
  if (typeof payload.iat !== 'number' || Math.abs(Date.now() / 1000 - payload.iat) > IAT_WINDOW_SECONDS) return { reason: 'iat is not recent' };
  if (typeof payload.jti !== 'string' || payload.jti === '') return { reason: 'no jti' };
  if (payload['ath'] !== createHash('sha256').update(request.token).digest('base64url')) return { reason: 'ath does not match the access token' };
  if ((await calculateJwkThumbprint(protectedHeader.jwk!)) !== request.jkt) return { reason: "the proof's key is not the one the token is bound to" };
  if (payload['nonce'] !== state.nonce) return { reason: 'use_dpop_nonce' };
  if (state.seenJti.has(payload.jti)) return { reason: 'the proof was used before (jti replay)' };
  state.seenJti.add(payload.jti);
  return {};
}
