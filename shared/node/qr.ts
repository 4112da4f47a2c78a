/**
 * QR codes as SVG data URLs (qrcode package; the renderer's CSP allows data: images).
 *
 * A QR code is only worth showing if a phone can scan it off the screen or the paper: that takes
 * a few pixels per module and the 4-module quiet zone of ISO/IEC 18004. So the SVG is drawn at
 * PIXELS_PER_MODULE per module (its intrinsic size; the screens do not shrink it), and a payload
 * whose code would need more than MAX_MODULES modules a side gets null: the screens offer the file
 * instead (issue 12 §10: a 2,000-character payload made a ~1 px-per-module code nobody could scan).
 */
import QRCode from 'qrcode';
import { encodeBase64 } from '../base64';
import { utf8 } from '../bytes';

/** Modules a side of the largest code we show: version 20 (97 × 97), ~ 660 bytes at level M (a macaroon in hex fits). */
export const MAX_MODULES = 97;
export const PIXELS_PER_MODULE = 3;
const QUIET_ZONE = 4;

export async function qrSvgDataUrl(text: string): Promise<string | null> {
  let size: number;
  try {
    size = QRCode.create(text, { errorCorrectionLevel: 'M' }).modules.size;
  } catch {
    return null; // longer than any QR code holds
  }
  if (size > MAX_MODULES) return null;
  const svg = await QRCode.toString(text, { type: 'svg', errorCorrectionLevel: 'M', margin: QUIET_ZONE, width: (size + 2 * QUIET_ZONE) * PIXELS_PER_MODULE });
  return `data:image/svg+xml;base64,${encodeBase64(utf8(svg), false, true)}`;
}
