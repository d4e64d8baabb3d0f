/**
 * Blob storage on any S3 API (AWS, MinIO, SeaweedFS, Ceph): the production event store.
 * Exclusive create is PutObject with `If-None-Match: *`: of concurrent writers exactly one gets 200,
 * the others 412 PreconditionFailed (or 409 ConditionalRequestConflict while the winner is in flight).
 * Credentials come from the AWS SDK default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, profiles,
 * instance roles), never from STRATA_EVENT_STORE.
 */
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { EventStoreConfig } from '../../config.js';
import { backoffDelay } from '../../core/backoff.js';
import { EngineUnavailable } from '../../core/errors.js';
import type { EventStore } from '../../ports/event-store.js';
import { BlobEventStore, type BlobStore } from './blob-event-store.js';

export type S3EventStoreConfig = Extract<EventStoreConfig, { kind: 's3' }>;

/** How one kind of call is retried: attempts in all, full-jitter exponential backoff, per-attempt deadline. */
interface RetryPolicy {
  attempts: number;
  baseMs: number;
  capMs: number;
  attemptTimeoutMs: number;
}

const OPERATION_RETRIES: RetryPolicy = { attempts: 6, baseMs: 100, capMs: 5_000, attemptTimeoutMs: 30_000 };
/** Start-up and `strata engines` must fail fast when the endpoint is wrong or down. */
const PING_RETRIES: RetryPolicy = { attempts: 2, baseMs: 200, capMs: 1_000, attemptTimeoutMs: 5_000 };
/**
 * A marker created once (conditional PUT) to learn at start-up whether the identity may write:
 * authorisation is checked before the precondition, so an identity that may read but not write
 * gets 403 here instead of on the first command. Outside the layout (streams/, events/, snapshots/).
 */
const WRITE_CHECK_KEY = '_strata/write-check.json';
/** Throttling asks for more room than a transient network error. */
const THROTTLE_BASE_FACTOR = 5;

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);
const THROTTLING_NAMES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottled',
  'RequestThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'BandwidthLimitExceeded',
]);
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'RequestTimeTooSkewed',
]);
const ACCESS_DENIED_NAMES = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'InvalidToken',
  'ExpiredToken',
]);
/** S3 answers 409 to a conditional write while another one on the same key is in flight. */
const CONDITIONAL_CONFLICT_NAMES = new Set(['ConditionalRequestConflict', 'OperationAborted']);

function statusOf(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function nameOf(e: unknown): string {
  return e instanceof Error ? e.name : typeof e;
}

/** The socket error code (ECONNREFUSED, …) anywhere in the cause chain or an AggregateError. */
function networkCode(e: unknown, depth = 0): string | undefined {
  if (e === null || typeof e !== 'object' || depth > 5) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  for (const inner of (e as { errors?: unknown[] }).errors ?? []) {
    const found = networkCode(inner, depth + 1);
    if (found) return found;
  }
  return networkCode((e as { cause?: unknown }).cause, depth + 1);
}

function isPreconditionFailed(e: unknown): boolean {
  return statusOf(e) === 412 || nameOf(e) === 'PreconditionFailed';
}

function isMissingBucket(e: unknown): boolean {
  // HeadBucket has no body, so a missing bucket is a bare 404 named NotFound.
  return nameOf(e) === 'NoSuchBucket' || (statusOf(e) === 404 && nameOf(e) !== 'NoSuchKey');
}

function isMissingKey(e: unknown): boolean {
  return nameOf(e) === 'NoSuchKey' || (statusOf(e) === 404 && nameOf(e) !== 'NoSuchBucket');
}

function isAccessDenied(e: unknown): boolean {
  return statusOf(e) === 403 || ACCESS_DENIED_NAMES.has(nameOf(e));
}

function isThrottling(e: unknown): boolean {
  return statusOf(e) === 429 || THROTTLING_NAMES.has(nameOf(e));
}

/** Whether another attempt may succeed: network, timeouts, throttling, 5xx, and conditional conflicts. */
function isTransient(e: unknown, timedOut: boolean): boolean {
  if (timedOut || networkCode(e) || isThrottling(e) || TRANSIENT_NAMES.has(nameOf(e))) return true;
  if ((e as { $retryable?: unknown } | undefined)?.$retryable !== undefined) return true;
  if (statusOf(e) === 409 && CONDITIONAL_CONFLICT_NAMES.has(nameOf(e))) return true;
  const status = statusOf(e);
  return status !== undefined && status >= 500;
}

/** Full jitter: a random delay up to the capped exponential step. */
function backoffMs(policy: RetryPolicy, attempt: number, throttled: boolean): number {
  const base = throttled ? policy.baseMs * THROTTLE_BASE_FACTOR : policy.baseMs;
  return backoffDelay(attempt, base, policy.capMs);
}

export class S3BlobStore implements BlobStore {
  readonly describe: string;
  private readonly client: S3Client;
  private readonly bucket: string;
  private readonly prefix: string;
  /** Where the bucket lives, for messages: the endpoint, or AWS S3 and its region. */
  private readonly where: string;
  /** The STRATA_EVENT_STORE setting that decides `where`. */
  private readonly whereSetting: string;
  /** Set once ping() has shown that this identity may write. */
  private writable = false;

  constructor(private readonly config: S3EventStoreConfig) {
    this.bucket = config.bucket;
    this.prefix = config.prefix;
    this.where = config.endpoint ?? `AWS S3 in ${config.region}`;
    this.whereSetting = config.endpoint ? 'STRATA_EVENT_STORE endpoint' : 'STRATA_EVENT_STORE region';
    this.describe = `s3://${config.bucket}/${config.prefix}${config.endpoint ? ` at ${config.endpoint}` : ''}`;
    this.client = new S3Client({
      region: config.region,
      ...(config.endpoint ? { endpoint: config.endpoint } : {}),
      forcePathStyle: config.forcePathStyle,
      ...(config.credentials ? { credentials: config.credentials } : {}),
      // Retries are done by `send` below, not by the SDK (maxAttempts 1): 409 ConditionalRequestConflict
      // must be retried too, ping needs a shorter budget, and exhaustion must name the endpoint.
      maxAttempts: 1,
      // Checksums only when S3 requires them: several S3-compatible servers reject the newer headers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: 3_000,
        httpAgent: { keepAlive: true, maxSockets: 64 },
        httpsAgent: { keepAlive: true, maxSockets: 64 },
      },
    });
  }

  private key(relative: string): string {
    return `${this.prefix}${relative}`;
  }

  /** One plain sentence for a failure, naming the setting to check. */
  private explain(e: unknown, timeoutMs: number, timedOut: boolean): string {
    const name = nameOf(e);
    const status = statusOf(e);
    const code = networkCode(e);
    if (code) return `cannot reach ${this.where} (${this.whereSetting}): ${code}`;
    if (timedOut || name === 'TimeoutError') {
      return `cannot reach ${this.where} (${this.whereSetting}): no answer within ${timeoutMs} ms`;
    }
    if (name === 'CredentialsProviderError') {
      return `no credentials found (set AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)`;
    }
    if (isAccessDenied(e)) {
      return `access denied to bucket '${this.bucket}' (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)`;
    }
    if (name === 'NoSuchBucket') return `bucket '${this.bucket}' does not exist at ${this.where}`;
    if (status === 301 || name === 'PermanentRedirect' || name === 'AuthorizationHeaderMalformed') {
      return `bucket '${this.bucket}' is not in region '${this.config.region}' (STRATA_EVENT_STORE region)`;
    }
    if (isThrottling(e)) return `${this.where} keeps throttling requests (${name})`;
    if (status === 409) return `a concurrent conditional write kept conflicting (${name})`;
    const answer = status === undefined ? name : `${status} ${name}`;
    const detail = e instanceof Error && e.message && e.message !== name ? `: ${e.message}` : '';
    return `${this.where} answered ${answer}${detail}`;
  }

  /**
   * Runs one S3 call with this engine's only retry loop. Transient failures are retried with backoff;
   * once exhausted they become EngineUnavailable. Other failures are rethrown as they came, for the
   * caller to decide (412, 404, …) or hand to `unavailable`. An empty `what` keeps start-up messages short.
   */
  private async send<T>(
    what: string,
    policy: RetryPolicy,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const signal = AbortSignal.timeout(policy.attemptTimeoutMs);
      try {
        return await run(signal);
      } catch (e) {
        if (!isTransient(e, signal.aborted)) throw e;
        if (attempt >= policy.attempts) {
          throw new EngineUnavailable(
            's3',
            `${this.explain(e, policy.attemptTimeoutMs, signal.aborted)}${what ? ` (${what}; gave up after ${attempt} attempts)` : ''}`,
            e,
          );
        }
        await new Promise((r) => setTimeout(r, backoffMs(policy, attempt, isThrottling(e))));
      }
    }
  }

  private unavailable(what: string, e: unknown): EngineUnavailable {
    if (e instanceof EngineUnavailable) return e;
    return new EngineUnavailable(
      's3',
      `${this.explain(e, OPERATION_RETRIES.attemptTimeoutMs, false)} (${what})`,
      e,
    );
  }

  async putIfAbsent(key: string, body: string): Promise<boolean> {
    const what = `PutObject ${key}`;
    try {
      // A retry of a PUT that did succeed answers 412: the command handler re-reads the version
      // and recognises its own event, so false is safe here.
      await this.send(what, OPERATION_RETRIES, (abortSignal) =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.key(key),
            Body: body,
            ContentType: 'application/json',
            IfNoneMatch: '*',
          }),
          { abortSignal },
        ),
      );
      return true;
    } catch (e) {
      if (isPreconditionFailed(e)) return false;
      throw this.unavailable(what, e);
    }
  }

  async get(key: string): Promise<string | undefined> {
    const what = `GetObject ${key}`;
    try {
      return await this.send(what, OPERATION_RETRIES, async (abortSignal) => {
        const out = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: this.key(key) }),
          {
            abortSignal,
          },
        );
        return out.Body ? await out.Body.transformToString('utf8') : '';
      });
    } catch (e) {
      if (isMissingKey(e)) return undefined;
      throw this.unavailable(what, e);
    }
  }

  /** Every page of one listing, following continuation tokens to the end. */
  private async *pages(
    prefix: string,
    delimiter?: string,
    startAfter?: string,
  ): AsyncGenerator<ListObjectsV2CommandOutput> {
    const what = `ListObjectsV2 ${prefix}`;
    let token: string | undefined;
    do {
      const continuation = token;
      let page: ListObjectsV2CommandOutput;
      try {
        page = await this.send(what, OPERATION_RETRIES, (abortSignal) =>
          this.client.send(
            new ListObjectsV2Command({
              Bucket: this.bucket,
              Prefix: this.key(prefix),
              ...(delimiter ? { Delimiter: delimiter } : {}),
              ...(continuation ? { ContinuationToken: continuation } : {}),
              ...(startAfter && !continuation ? { StartAfter: this.key(startAfter) } : {}),
            }),
            { abortSignal },
          ),
        );
      } catch (e) {
        throw this.unavailable(what, e);
      }
      yield page;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && !token) {
        throw new EngineUnavailable(
          's3',
          `${this.where} truncated a listing without a continuation token (${what})`,
        );
      }
    } while (token);
  }

  async *list(prefix: string, startAfter?: string): AsyncGenerator<string> {
    for await (const page of this.pages(prefix, undefined, startAfter)) {
      for (const object of page.Contents ?? []) {
        // Folder markers some servers report are never written by Strata.
        if (object.Key && !object.Key.endsWith('/')) yield object.Key.slice(this.prefix.length);
      }
    }
  }

  async *listFolders(prefix: string): AsyncGenerator<string> {
    for await (const page of this.pages(prefix, '/')) {
      for (const folder of page.CommonPrefixes ?? []) {
        if (folder.Prefix) yield folder.Prefix.slice(this.prefix.length);
      }
    }
  }

  async ping(): Promise<void> {
    await this.ensureBucket();
    await this.checkWritable();
  }

  private async checkWritable(): Promise<void> {
    if (this.writable) return;
    try {
      await this.send('', PING_RETRIES, (abortSignal) =>
        this.client.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: this.key(WRITE_CHECK_KEY),
            Body: '{"written_by":"strata","why":"start-up check that this identity may write"}',
            ContentType: 'application/json',
            IfNoneMatch: '*',
          }),
          { abortSignal },
        ),
      );
    } catch (e) {
      if (!isPreconditionFailed(e)) {
        if (isAccessDenied(e)) {
          throw new EngineUnavailable(
            's3',
            `access denied writing to bucket '${this.bucket}': the identity may read but not write ` +
              '(grant it PutObject, or check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)',
            e,
          );
        }
        throw this.pingFailure(e);
      }
    }
    this.writable = true;
  }

  private async ensureBucket(): Promise<void> {
    const head = () =>
      this.send('', PING_RETRIES, (abortSignal) =>
        this.client.send(new HeadBucketCommand({ Bucket: this.bucket }), { abortSignal }),
      );
    try {
      await head();
      return;
    } catch (e) {
      if (!isMissingBucket(e)) throw this.pingFailure(e);
    }
    if (!this.config.createBucket) {
      throw new EngineUnavailable(
        's3',
        `bucket '${this.bucket}' does not exist at ${this.where}; create it, or add createBucket=true to STRATA_EVENT_STORE`,
      );
    }
    try {
      await this.send('', PING_RETRIES, (abortSignal) =>
        this.client.send(
          new CreateBucketCommand({
            Bucket: this.bucket,
            // us-east-1 is the one region S3 refuses as an explicit location constraint.
            ...(this.config.region === 'us-east-1'
              ? {}
              : {
                  CreateBucketConfiguration: {
                    LocationConstraint: this.config.region as BucketLocationConstraint,
                  },
                }),
          }),
          { abortSignal },
        ),
      );
    } catch (e) {
      if (nameOf(e) === 'BucketAlreadyOwnedByYou') return;
      if (nameOf(e) === 'BucketAlreadyExists') {
        // Some servers say this to the owner too; the bucket is ours if we can now read it.
        try {
          await head();
          return;
        } catch {
          throw new EngineUnavailable('s3', `bucket name '${this.bucket}' is taken by another account`, e);
        }
      }
      throw this.pingFailure(e);
    }
  }

  /**
   * Deletes every object under this store's prefix: for dropping a test or demo namespace. The
   * event store itself never deletes; a store without a prefix (a whole bucket) is refused.
   */
  async deleteAll(): Promise<void> {
    if (!this.prefix.endsWith('/')) {
      throw new Error(
        `refusing to empty '${this.bucket}/${this.prefix}': not a folder prefix (the whole bucket?)`,
      );
    }
    const what = `DeleteObjects ${this.prefix}`;
    const remove = async (keys: string[]) => {
      let failed: { Key?: string; Code?: string }[];
      try {
        const r = await this.send(what, OPERATION_RETRIES, (abortSignal) =>
          this.client.send(
            new DeleteObjectsCommand({
              Bucket: this.bucket,
              Delete: { Objects: keys.map((Key) => ({ Key })), Quiet: true },
            }),
            { abortSignal },
          ),
        );
        failed = r.Errors ?? [];
      } catch (e) {
        throw this.unavailable(what, e);
      }
      // A 200 may still list objects it did not delete (Quiet: only the failures are listed).
      if (failed.length > 0) {
        throw new EngineUnavailable(
          's3',
          `${what}: ${failed.length} objects were not deleted, e.g. ${failed[0]!.Key} (${failed[0]!.Code})`,
        );
      }
    };
    // Collected first: deleting while listing could move the continuation token.
    const keys: string[] = [];
    for await (const page of this.pages('')) {
      for (const o of page.Contents ?? []) if (o.Key) keys.push(o.Key);
    }
    for (let i = 0; i < keys.length; i += 1000) await remove(keys.slice(i, i + 1000));
  }

  private pingFailure(e: unknown): EngineUnavailable {
    if (e instanceof EngineUnavailable) return e;
    return new EngineUnavailable('s3', this.explain(e, PING_RETRIES.attemptTimeoutMs, false), e);
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

export async function openS3EventStore(config: S3EventStoreConfig): Promise<EventStore> {
  return new BlobEventStore(new S3BlobStore(config));
}

/** Deletes every object under the configured prefix (dropping a test or demo namespace). */
export async function deleteS3Prefix(config: S3EventStoreConfig): Promise<void> {
  const blobs = new S3BlobStore(config);
  try {
    await blobs.deleteAll();
  } finally {
    await blobs.close();
  }
}
