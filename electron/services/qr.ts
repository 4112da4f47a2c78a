/**
 * QR codes as SVG data URLs (qrcode package; the renderer's CSP allows data: images).
 * A QR code carries at most ~2,900 bytes; larger payloads get null and the UI
 * offers the file instead.
 */
import QRCode from 'qrcode';
import { encodeBase64 } from '../../shared/base64';
import { utf8 } from '../../shared/bytes';

export const QR_MAX_CHARS = 2_000;

export async function qrSvgDataUrl(text: string): Promise<string | null> {
  if (text.length > QR_MAX_CHARS) return null;
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return `data:image/svg+xml;base64,${encodeBase64(utf8(svg), false, true)}`;
}
