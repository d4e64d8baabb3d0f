/**
 * Blob storage on a local folder with the S3 key layout: the embedded event store.
 * Exclusive create is a hard link of a fully written, fsynced temp file: link(2) fails with
 * EEXIST when the key exists, so of two concurrent writers exactly one wins.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, stat, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { EngineUnavailable } from '../../core/errors.js';
import { BlobEventStore, type BlobStore } from './blob-event-store.js';

async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function isCode(e: unknown, code: string): boolean {
  return (e as NodeJS.ErrnoException).code === code;
}

async function sortedEntries(dir: string): Promise<{ name: string; isDir: boolean }[]> {
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    return entries
      .filter((e) => !e.name.startsWith('.tmp-'))
      .map((e) => ({ name: e.name, isDir: e.isDirectory() }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (e) {
    if (isCode(e, 'ENOENT')) return [];
    throw e;
  }
}

export class FsBlobStore implements BlobStore {
  readonly describe: string;

  constructor(private readonly root: string) {
    this.describe = `fs:${root}`;
  }

  private path(key: string): string {
    return join(this.root, ...key.split('/'));
  }

  async putIfAbsent(key: string, body: string): Promise<boolean> {
    const target = this.path(key);
    const dir = dirname(target);
    const tmp = join(dir, `.tmp-${randomBytes(8).toString('hex')}`);
    try {
      await mkdir(dir, { recursive: true });
      const handle = await open(tmp, 'wx');
      try {
        await handle.writeFile(body);
        await handle.sync();
      } finally {
        await handle.close();
      }
      try {
        await link(tmp, target);
      } catch (e) {
        if (isCode(e, 'EEXIST')) return false;
        throw e;
      }
      await fsyncDir(dir);
      return true;
    } catch (e) {
      throw new EngineUnavailable('fs', `cannot write ${key}: ${(e as Error).message}`, e);
    } finally {
      await unlink(tmp).catch(() => undefined);
    }
  }

  async get(key: string): Promise<string | undefined> {
    try {
      return await readFile(this.path(key), 'utf8');
    } catch (e) {
      if (isCode(e, 'ENOENT')) return undefined;
      throw new EngineUnavailable('fs', `cannot read ${key}: ${(e as Error).message}`, e);
    }
  }

  async *list(prefix: string, startAfter?: string): AsyncGenerator<string> {
    // Prefixes used here always end at a folder boundary.
    const base = prefix.endsWith('/') ? prefix : `${prefix}/`;
    for await (const key of this.walk(base)) if (startAfter === undefined || key > startAfter) yield key;
  }

  private async *walk(folder: string): AsyncGenerator<string> {
    for (const entry of await sortedEntries(this.path(folder))) {
      if (entry.isDir) yield* this.walk(`${folder}${entry.name}/`);
      else yield `${folder}${entry.name}`;
    }
  }

  async *listFolders(prefix: string): AsyncGenerator<string> {
    for (const entry of await sortedEntries(this.path(prefix))) {
      if (entry.isDir) yield `${prefix}${entry.name}/`;
    }
  }

  async ping(): Promise<void> {
    try {
      await mkdir(this.root, { recursive: true });
      await stat(this.root);
    } catch (e) {
      throw new EngineUnavailable('fs', `${this.root} is not usable: ${(e as Error).message}`, e);
    }
  }

  async close(): Promise<void> {}
}

export function openFsEventStore(root: string): BlobEventStore {
  return new BlobEventStore(new FsBlobStore(root));
}
