/**
 * What several e2e specs share: the known-answer secrets, loading one through the UI, a server
 * directory holding our backup among others, and the layout checks.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { inflateSync } from 'node:zlib';
import type { Page } from '@playwright/test';
import { expect } from './harness';
import { makeSyntheticArchive } from '../node/helpers/synthetic';
import { nobleSecp } from '../../shared/cldcb/curve';
import { formatClientId } from '../../shared/cldcb/ids';
import { formatRecognitionCodesFile, signRecognitionCode, type RecognitionRecord } from '../../shared/cldcb/recognition';
import { hexToBytes } from '../../shared/bytes';
import { nodeIdFromSecret, nodePrivateKey } from '../../shared/secrets/nodeKey';

const here = path.dirname(fileURLToPath(import.meta.url));
export const vectors = JSON.parse(readFileSync(path.join(here, '../vectors/cln/known-answers.json'), 'utf8')) as typeof import('../vectors/cln/known-answers.json');
export const ours = vectors.hsm_secret_cases[0]!;
export const grouped = (hex: string) => hex.match(/.{4}/g)!.join(' ');

/** Type a secret on the import screen and land on "Is this your node?". */
export async function loadTyped(page: Page, text: string): Promise<void> {
  await page.getByRole('button', { name: 'Import secret' }).first().click();
  await page.getByRole('tab', { name: 'Type or paste' }).click();
  await page.getByLabel(/64 hex digits/).fill(text);
  await page.getByRole('button', { name: 'Load secret' }).click();
  await expect(page.getByRole('heading', { name: 'Is this your node?' })).toBeVisible();
}

/** A server directory with our archive and `others` other nodes' archives, and their codes. */
export function makeServerDir(others: number, opts: { increments?: number } = {}): { dir: string; ourClientId: string; finalDv: number } {
  const dir = mkdtempSync(path.join(tmpdir(), 'cldcb-e2e-server-'));
  const records: RecognitionRecord[] = [];
  const clients: string[] = [];
  let ourClientId = '';
  let finalDv = 0;
  for (let i = 0; i <= others; i++) {
    const secret = i === 0 ? hexToBytes(ours.secret_data_hex) : new Uint8Array(randomBytes(32));
    const nodeId = nodeIdFromSecret(secret);
    const clientPrivateKey = new Uint8Array(randomBytes(32));
    const clientKey = nobleSecp.publicKey(clientPrivateKey);
    const cid = formatClientId(clientKey);
    const a = makeSyntheticArchive({
      archivePath: path.join(dir, `${cid}.arch`),
      scratchDb: path.join(dir, `.scratch-${i}.sqlite3`),
      nodeId,
      clientPrivateKey,
      snapshotRows: 40,
      increments: (opts.increments ?? 4) + i,
      statementsPerIncrement: 3,
    });
    records.push({ clientKey, code: signRecognitionCode(nodePrivateKey(secret), clientKey) });
    clients.push(cid);
    if (i === 0) {
      ourClientId = cid;
      finalDv = a.finalDataVersion;
    }
  }
  writeFileSync(path.join(dir, 'recognition_codes'), formatRecognitionCodesFile(records));
  writeFileSync(path.join(dir, 'clients'), clients.join('\n') + '\n');
  writeFileSync(path.join(dir, 'server_id'), readFileSync(path.join(here, '../fixtures/cldcb/server_id')));
  return { dir, ourClientId, finalDv };
}

/** The page scrolls sideways when its content is wider than the window (issue 12 §11). */
export async function horizontalOverflow(page: Page): Promise<{ scrollWidth: number; width: number; widest: string }> {
  return page.evaluate(() => {
    // Runs in the page (this file is type-checked without the DOM library).
    interface El {
      tagName: string;
      className: unknown;
      getBoundingClientRect(): { right: number; width: number };
    }
    const doc = (globalThis as unknown as { document: { documentElement: { clientWidth: number; scrollWidth: number }; querySelectorAll(s: string): ArrayLike<El> } }).document;
    let widest = '';
    let max = doc.documentElement.clientWidth;
    for (const el of Array.from(doc.querySelectorAll('body *'))) {
      const r = el.getBoundingClientRect();
      if (r.right > max + 1 && r.width > 0) {
        max = r.right;
        widest = `${el.tagName.toLowerCase()}${typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : ''} (${Math.round(r.right)} px)`;
      }
    }
    return { scrollWidth: doc.documentElement.scrollWidth, width: doc.documentElement.clientWidth, widest };
  });
}

export async function expectNoHorizontalScroll(page: Page, where: string): Promise<void> {
  const o = await horizontalOverflow(page);
  expect(o.scrollWidth, `${where}: page is ${o.scrollWidth} px wide in a ${o.width} px window; widest: ${o.widest}`).toBeLessThanOrEqual(o.width);
}

/** Window sizes every screen must fit (issue 12 §11): the default window, 800×600, and both at 150 % zoom. */
export const SIZES = [
  { width: 1180, height: 820, label: '1180x820', shot: true },
  { width: 800, height: 600, label: '800x600', shot: true },
  { width: 787, height: 547, label: '1180x820 at 150 % zoom', shot: false },
  { width: 533, height: 400, label: '800x600 at 150 % zoom', shot: false },
] as const;

/**
 * Screenshot the screen as it is at 1180×820 and at 800×600 (artifacts/screenshots/<name>-<size>.png),
 * checking at every size in SIZES that nothing needs horizontal scrolling. Leaves the window at 1180×820.
 */
export async function shotAllSizes(app: { page: Page; shot(name: string): Promise<void> }, name: string): Promise<void> {
  for (const s of SIZES) {
    await app.page.setViewportSize({ width: s.width, height: s.height });
    await expectNoHorizontalScroll(app.page, `${name} at ${s.label}`);
    if (s.shot) await app.shot(`${name}-${s.label}`);
  }
  await app.page.setViewportSize({ width: 1180, height: 820 });
}

/**
 * Where a Chromium-made PDF's first page content starts, in points from the left and top edges:
 * Skia writes each page as a content stream that clips to the printable area (`x y w h re W* n`,
 * in units of 1/0.24 pt after its page transform). Zero means the content touches the paper's edge.
 */
export function pdfContentOrigin(pdf: Buffer): { left: number; top: number } {
  const text = pdf.toString('latin1');
  const re = /stream\r?\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const start = m.index + m[0].length;
    const end = text.indexOf('endstream', start);
    if (end < 0) break;
    re.lastIndex = end + 9;
    let body: string;
    try {
      body = inflateSync(pdf.subarray(start, end)).toString('latin1');
    } catch {
      continue;
    }
    const clip = /(-?[\d.]+) (-?[\d.]+) (-?[\d.]+) (-?[\d.]+) re\s+W\*? n/.exec(body);
    if (clip) return { left: Number(clip[1]) * 0.24, top: Number(clip[2]) * 0.24 };
  }
  throw new Error('no page content found in the PDF');
}

/** On the Recover screen: choose `dir` as the server directory copy and search it. */
export async function searchServerDir(app: { page: Page; dirPaths: (string | null)[] }, dir: string): Promise<void> {
  app.dirPaths.push(dir);
  await app.page.getByRole('button', { name: 'Choose folder…' }).click();
  await app.page.getByRole('button', { name: 'Find my entries' }).click();
}

/** On the Recover screen, after a search that found our backup: choose `target` as the lightning directory. */
export async function chooseLightningDir(app: { page: Page; dirPaths: (string | null)[] }, target: string): Promise<void> {
  await expect(app.page.getByTestId('candidates')).toBeVisible({ timeout: 30_000 });
  app.dirPaths.push(target);
  await app.page.getByRole('button', { name: 'Choose the lightning directory…' }).click();
}
