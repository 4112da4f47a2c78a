/**
 * Splits lightningd's stdin into JSON values. lightningd writes one object after another,
 * usually separated by "\n\n" but not necessarily (objects may arrive back to back, split
 * anywhere, several in one read). We scan each character once, tracking string/escape state
 * and brace depth, and hand each complete top-level object or array to JSON.parse. An
 * incomplete value is kept as a list of pieces, so a large db_write arriving in many reads
 * costs linear time.
 */
export class JsonObjectStream {
  private parts: string[] = [];
  private partsLength = 0;
  private open = false;
  private depth = 0;
  private inString = false;
  private escape = false;
  private seen = 0;

  /**
   * Feed text; returns the values completed by it.
   * @throws SyntaxError for text that is not JSON (the caller decides what to do).
   */
  push(text: string): unknown[] {
    const out: unknown[] = [];
    let start = this.open ? 0 : -1;
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (!this.open) {
        if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) continue;
        if (c !== 0x7b && c !== 0x5b) throw new SyntaxError(`expected "{" at input character ${this.seen + i}, got ${JSON.stringify(text[i])}`);
        this.open = true;
        start = i;
        this.depth = 1;
        continue;
      }
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 0x5c) this.escape = true;
        else if (c === 0x22) this.inString = false;
        continue;
      }
      if (c === 0x22) this.inString = true;
      else if (c === 0x7b || c === 0x5b) this.depth++;
      else if (c === 0x7d || c === 0x5d) {
        this.depth--;
        if (this.depth === 0) {
          const piece = text.slice(start, i + 1);
          const whole = this.parts.length === 0 ? piece : this.parts.join('') + piece;
          this.parts = [];
          this.partsLength = 0;
          this.open = false;
          out.push(JSON.parse(whole));
        }
      }
    }
    if (this.open) {
      const piece = text.slice(Math.max(start, 0));
      this.parts.push(piece);
      this.partsLength += piece.length;
    }
    this.seen += text.length;
    return out;
  }

  /** Characters of an incomplete value still buffered. */
  get pending(): number {
    return this.partsLength;
  }
}
