/**
 * The control plane's DPoP state (RFC 9449): a replay cache of accepted proofs and, when the
 * server requires them, its nonces. One DpopProofs per place proofs are checked (the token
 * endpoint, the agent-authenticated routes), each with its own cache. The rules are
 * model/dpop.ts; the cryptography crypto/dpop.ts.
 *
 * Nonces (RFC 9449 §8) are stateless, so every replica accepts every replica's: a nonce names a
 * time window and carries an HMAC of it under a key derived from the master key. The current
 * and the previous window's nonces are accepted, so a nonce lives one to two windows.
 */
import { createHmac } from 'node:crypto';
import {
  checkDpopPresentation, checkDpopProof, DpopCheckResult, DpopExpectations, DpopPresentation, DpopPresentationResult, DpopReplayCache,
} from '../../../model/dpop';
import { DPOP_NONCE_WINDOW_SECONDS, WindowedDpopNonces } from '../../../model/dpop-nonce';
import { nodeDpopCrypto } from '../crypto/dpop';

export interface DpopProofsOptions {
  /** Require a server nonce in every proof (CERTUSORDO_DPOP_NONCE=required). */
  requireNonce: boolean;
  /** HMAC key of the nonces (derived from the master key, so all replicas share it). */
  nonceKey: Buffer;
  /** Milliseconds since the epoch (default Date.now); tests step it. */
  clock?: (() => number) | undefined;
  /** Length of a nonce window (default DPOP_NONCE_WINDOW_SECONDS); tests shorten it. */
  nonceWindowSeconds?: number | undefined;
  replayCapacity?: number | undefined;
}

type Context = Pick<DpopExpectations, 'nowSeconds' | 'replay' | 'nonce'>;
export type DpopRequest = Omit<DpopExpectations, keyof Context>;

export class DpopProofs {
  readonly requireNonce: boolean;
  readonly #replay: DpopReplayCache;
  readonly #nonces: WindowedDpopNonces;
  readonly #clock: () => number;

  constructor(o: DpopProofsOptions) {
    this.requireNonce = o.requireNonce;
    const key = o.nonceKey;
    // The format (model/dpop-nonce.ts) is the resource-server kits' too; only the key differs.
    this.#nonces = new WindowedDpopNonces((message) => createHmac('sha256', key).update(message).digest(), o.nonceWindowSeconds ?? DPOP_NONCE_WINDOW_SECONDS);
    this.#clock = o.clock ?? Date.now;
    this.#replay = new DpopReplayCache(o.replayCapacity);
  }

  /** Checks a proof for a request, with this place's replay cache and nonce policy. */
  check(request: DpopRequest): Promise<DpopCheckResult> {
    return checkDpopProof(nodeDpopCrypto, { ...request, ...this.#context() });
  }

  /** Checks how a verified token was presented at a route (model/dpop.ts checkDpopPresentation). */
  checkPresentation(p: Omit<DpopPresentation, keyof Context>): Promise<DpopPresentationResult> {
    return checkDpopPresentation(nodeDpopCrypto, { ...p, ...this.#context() });
  }

  /** This place's clock, replay cache and nonce policy. */
  #context(): Context {
    const nowSeconds = Math.floor(this.#clock() / 1000);
    const nonce = async (n: string): Promise<boolean> => (await this.#nonces.verdict(n, nowSeconds)) !== 'refused';
    return { nowSeconds, replay: this.#replay, nonce: this.requireNonce ? nonce : undefined };
  }

  /** The nonce to hand clients now (the `DPoP-Nonce` response header); undefined when nonces are off. */
  async currentNonce(): Promise<string | undefined> {
    return this.requireNonce ? this.#nonces.current(Math.floor(this.#clock() / 1000)) : undefined;
  }
}
