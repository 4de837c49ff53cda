/**
 * The SDK clients against a token endpoint that requires DPoP nonces (RFC 9449 §8) and rotates
 * them while the clients run: a real HTTP server whose proof and nonce checks are the control
 * plane's own (`DpopProofs`, nonce windows of 10 s on a clock the test steps), answering every DPoP
 * request with its current `DPoP-Nonce` as the control plane does. The clients must retry once on
 * `use_dpop_nonce`, and take the newest nonce from any answer, a successful one included, so a
 * rotation costs no refused request while their nonce is still accepted.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import express from 'express';
import { AgentCredentials, formatAgentSecret } from '@certusordo/sdk';
import { DpopProofs } from '../../api/src/tokens/dpop';
import { listenLocal, LocalApp } from '../support/local-app';

const WINDOW_S = 10;

/** Seconds the token endpoint's clock is ahead of real time (proofs carry real time: at most 60 s old). */
let offsetS = 0;
/** The `nonce` claim of every proof the endpoint received, in order (undefined: none). */
let seen: Array<string | undefined> = [];
let local: LocalApp;
let baseUrl: string;

beforeAll(async () => {
  const dpop = new DpopProofs({ requireNonce: true, nonceKey: randomBytes(32), clock: () => Date.now() + offsetS * 1000, nonceWindowSeconds: WINDOW_S });
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.post('/v1/oauth/token', async (req, res) => {
    const proof = req.get('dpop');
    if (!proof) return void res.status(400).json({ error: 'invalid_dpop_proof' });
    const claims = JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()) as { nonce?: string };
    seen.push(claims.nonce);
    res.setHeader('DPoP-Nonce', (await dpop.currentNonce())!);
    const result = await dpop.check({ proof, htm: 'POST', htu: `${baseUrl}/v1/oauth/token` });
    if (!result.ok) return void res.status(400).json({ error: result.error, error_description: result.message });
    res.json({ access_token: `token-${seen.length}`, token_type: 'DPoP', expires_in: 300 });
  });
  // The Python client runs in another process: it asks the endpoint to move its clock.
  app.post('/test/advance', (req, res) => {
    offsetS += Number(req.query.seconds);
    res.json({});
  });
  local = await listenLocal(app);
  baseUrl = local.origin;
});
afterAll(async () => {
  await local?.close();
});
beforeEach(() => {
  seen = [];
  // The start of a window plus 1 s, so the steps below land where the test says.
  offsetS = WINDOW_S - ((Date.now() / 1000) % WINDOW_S) + 1;
});

const secret = () => formatAgentSecret(randomUUID(), new Uint8Array(randomBytes(32)));

/**
 * What each scenario expects the proofs to carry: N0 (the first window's nonce), then N0 again
 * in the next window (still accepted; the answer hands out N1), then N1 (taken from that
 * successful answer), then, two windows on, the stale N1 once and the new N3.
 */
function expectRotation(nonces: Array<string | undefined>): void {
  expect(nonces.length).toBe(7);
  const [none, n0, n0again, n1, stale, n3] = [nonces[0], nonces[1], nonces[2], nonces[3], nonces[4], nonces[5]];
  expect(none).toBeUndefined();
  expect(n0again).toBe(n0);
  expect(n1).not.toBe(n0);
  expect(stale).toBe(n1);
  expect(n3).not.toBe(n1);
  expect(nonces[6]).toBe(n3);
}

test('AgentCredentials retries once on use_dpop_nonce and takes the newest nonce from every answer', async () => {
  const creds = AgentCredentials.fromSecret(secret(), { baseUrl, dpop: true });
  const get = async () => (await creds.getAccessToken({ forceRefresh: true })).tokenType;
  expect(await get()).toBe('DPoP'); // no nonce, refused; N0
  offsetS += WINDOW_S;
  await get(); // N0, accepted as the previous window's; the answer carries N1
  await get(); // N1
  offsetS += 2 * WINDOW_S;
  await get(); // N1 is two windows old: refused once; N3
  await get(); // N3
  expectRotation(seen);
});

test('the Python AgentCredentials does the same', async () => {
  const script = `
import sys, urllib.request
from certusordo import AgentCredentials
creds = AgentCredentials.from_secret(sys.argv[1], base_url=sys.argv[2], dpop=True)
def advance(seconds):
    urllib.request.urlopen(urllib.request.Request(f"{sys.argv[2]}/test/advance?seconds={seconds}", data=b"", method="POST")).read()
def get():
    creds.clear_token_cache()
    return creds.get_access_token().token_type
print(get())
advance(${WINDOW_S})
get(); get()
advance(${2 * WINDOW_S})
get(); get()
`;
  const out = await new Promise<string>((resolve, reject) => {
    execFile('python3', ['-c', script, secret(), baseUrl], { env: { ...process.env, PYTHONPATH: path.join(__dirname, '../../python') } }, (err, stdout, stderr) =>
      err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout));
  });
  expect(out.trim()).toBe('DPoP');
  expectRotation(seen);
});
