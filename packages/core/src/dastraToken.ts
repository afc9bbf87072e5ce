/** Caches the OAuth2 access token until 60 s before it expires; concurrent callers share one refresh. */
export class DastraTokenCache {
  private token: { value: string; validUntil: number } | undefined;
  private refreshing: Promise<string> | undefined;

  constructor(
    private readonly fetchToken: () => Promise<{ accessToken: string; expiresInSeconds: number }>,
    private readonly now: () => number = Date.now,
  ) {}

  get(): Promise<string> {
    if (this.token && this.now() < this.token.validUntil) return Promise.resolve(this.token.value);
    this.refreshing ??= this.fetchToken()
      .then(({ accessToken, expiresInSeconds }) => {
        this.token = { value: accessToken, validUntil: this.now() + Math.max(0, expiresInSeconds - 60) * 1000 };
        return accessToken;
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /** After a 401: drop this token (unless a newer one already replaced it). */
  invalidate(token: string): void {
    if (this.token?.value === token) this.token = undefined;
  }
}
