// A stream stage between `COPY … TO STDOUT` on production and `COPY … FROM STDIN` on staging:
// splits the raw byte stream into rows, anonymizes each, and pushes output in batches. Memory
// stays flat: at most one partial row plus one output batch is held.
import { StringDecoder } from 'node:string_decoder';
import { Transform, type TransformCallback } from 'node:stream';
import { CopyFormatError, type RowAnonymizer } from './row-anonymizer.js';

export interface CopyTransformOptions {
  /** Output is pushed once this many characters have collected (default 64 Ki). */
  batchSize?: number;
  /** Aborting destroys the stream with an AbortError. */
  signal?: AbortSignal;
  /** Called after each input chunk with the running row count. */
  onProgress?: (rows: number) => void;
}

export interface CopyTransformStats {
  rows: number;
  bytesIn: number;
  bytesOut: number;
  /** Time spent inside this stage (splitting, anonymizing, encoding): the anonymizer's own share of a copy. */
  timeMs: number;
  /** The most characters held between chunks (partial row + unsent batch): evidence that memory stayed flat. */
  peakBufferedChars: number;
}

export class CopyAnonymizeTransform extends Transform {
  readonly stats: CopyTransformStats = { rows: 0, bytesIn: 0, bytesOut: 0, timeMs: 0, peakBufferedChars: 0 };
  private readonly decoder = new StringDecoder('utf8');
  private partial = '';
  private pending = '';
  private readonly batchSize: number;

  constructor(
    private readonly anonymize: RowAnonymizer,
    private readonly opts: CopyTransformOptions = {},
  ) {
    super(opts.signal ? { signal: opts.signal } : {});
    this.batchSize = opts.batchSize ?? 64 * 1024;
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, callback: TransformCallback): void {
    const started = process.hrtime.bigint();
    try {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      this.stats.bytesIn += buf.length;
      if (!this.anonymize.active) {
        // Nothing to change in this table: count rows and forward the bytes as they came.
        for (let i = buf.indexOf(0x0a); i >= 0; i = buf.indexOf(0x0a, i + 1)) this.stats.rows++;
        this.stats.bytesOut += buf.length;
        this.push(buf);
        return callback();
      }
      // COPY text escapes newlines inside values, so every raw 0x0A ends a row.
      const text = this.partial + this.decoder.write(buf);
      let start = 0;
      let nl: number;
      while ((nl = text.indexOf('\n', start)) >= 0) {
        this.pending += this.row(text.slice(start, nl)) + '\n';
        start = nl + 1;
        if (this.pending.length >= this.batchSize) this.pushPending();
      }
      this.partial = start === 0 ? text : text.slice(start);
      const held = this.partial.length + this.pending.length;
      if (held > this.stats.peakBufferedChars) this.stats.peakBufferedChars = held;
    } catch (error) {
      return callback(error as Error);
    } finally {
      this.stats.timeMs += Number(process.hrtime.bigint() - started) / 1e6;
    }
    this.opts.onProgress?.(this.stats.rows);
    callback();
  }

  override _flush(callback: TransformCallback): void {
    const started = process.hrtime.bigint();
    try {
      const rest = this.partial + this.decoder.end();
      this.partial = '';
      // A last row without its newline (not what COPY writes, but a file may end so): keep it that way.
      if (rest !== '') this.pending += this.row(rest);
      this.pushPending();
    } catch (error) {
      return callback(error as Error);
    } finally {
      this.stats.timeMs += Number(process.hrtime.bigint() - started) / 1e6;
    }
    callback();
  }

  private row(line: string): string {
    // `\.` is the end-of-data marker in files and old-protocol streams.
    if (line === '\\.') return line;
    this.stats.rows++;
    try {
      // A raw CR can only be a CRLF line ending: COPY escapes CRs in values as \r.
      if (line.endsWith('\r')) return this.anonymize(line.slice(0, -1)) + '\r';
      return this.anonymize(line);
    } catch (error) {
      if (error instanceof CopyFormatError) throw new CopyFormatError(`row ${this.stats.rows}: ${error.message}`);
      throw error;
    }
  }

  private pushPending(): void {
    if (this.pending === '') return;
    const out = Buffer.from(this.pending, 'utf8');
    this.pending = '';
    this.stats.bytesOut += out.length;
    this.push(out);
  }
}

/** The Transform stream for one table's COPY data; `.stats` holds rows, bytes and time spent. */
export function createCopyTransform(anonymize: RowAnonymizer, opts: CopyTransformOptions = {}): CopyAnonymizeTransform {
  return new CopyAnonymizeTransform(anonymize, opts);
}
