/**
 * Cursor pagination (`{data, next_cursor}`).
 *
 * - `await client.agents.list()` is the first page (`page.data`, `page.nextCursor`, `page.nextPage()`).
 * - `for await (const agent of client.agents.list())` walks every item of every page.
 * - `for await (const page of (await client.agents.list()).iterPages())` walks pages.
 */

/** Fetches one page given a cursor (undefined = first page). */
export type PageFetcher<T> = (cursor: string | undefined) => Promise<{ data: T[]; nextCursor: string | null }>;

export class CursorPage<T> implements AsyncIterable<T> {
  readonly data: T[];
  readonly nextCursor: string | null;
  readonly #fetch: PageFetcher<T>;

  constructor(data: T[], nextCursor: string | null, fetch: PageFetcher<T>) {
    this.data = data;
    this.nextCursor = nextCursor;
    this.#fetch = fetch;
  }

  /** Loads the first page. */
  static async load<T>(fetch: PageFetcher<T>, cursor?: string): Promise<CursorPage<T>> {
    const { data, nextCursor } = await fetch(cursor);
    return new CursorPage(data, nextCursor, fetch);
  }

  hasNextPage(): boolean {
    return this.nextCursor !== null;
  }

  /** The following page; throws when there is none (check `hasNextPage()`). */
  async nextPage(): Promise<CursorPage<T>> {
    if (this.nextCursor === null) throw new Error('no next page; check hasNextPage() first');
    return CursorPage.load(this.#fetch, this.nextCursor);
  }

  /** This page and every following one. */
  async *iterPages(): AsyncGenerator<CursorPage<T>, void, undefined> {
    let page: CursorPage<T> = this;
    yield page;
    while (page.hasNextPage()) {
      page = await page.nextPage();
      yield page;
    }
  }

  /** Every item from this page on, fetching further pages lazily. */
  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    for await (const page of this.iterPages()) yield* page.data;
  }
}

/**
 * What `list()` returns: a Promise of the first page that is also an async iterator over all items,
 * so both `await list()` and `for await (… of list())` work without an extra call.
 */
export class PagePromise<T> extends Promise<CursorPage<T>> implements AsyncIterable<T> {
  // Promise subclasses must build plain Promises from then()/catch(), or they would call our constructor.
  static override get [Symbol.species](): PromiseConstructor {
    return Promise;
  }

  static from<T>(fetch: PageFetcher<T>, cursor?: string): PagePromise<T> {
    let resolve!: (page: CursorPage<T>) => void;
    let reject!: (err: unknown) => void;
    const p = new PagePromise<T>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    CursorPage.load(fetch, cursor).then(resolve, reject);
    return p;
  }

  /** Collects every item of every page (convenient for small result sets). */
  async toArray(): Promise<T[]> {
    const out: T[] = [];
    for await (const item of this) out.push(item);
    return out;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<T, void, undefined> {
    yield* await this;
  }
}
