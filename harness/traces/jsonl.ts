// Traces in a run folder: OTLP JSON lines, one ExportTraceServiceRequest per line, the format the
// OpenTelemetry Collector's file exporter writes, so either tool reads the other's files.
import { createReadStream, createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { PlanewrightError } from '../errors.ts';
import { spansFromOtlp } from './otlp-decode.ts';
import { toOtlpJson } from './otlp-encode.ts';
import type { TraceSpan } from './span.ts';
import { TraceStore, type TraceStoreOptions } from './store.ts';

export interface OtlpJsonlWriter {
  readonly path: string;
  /** Appends one line holding `spans`; nothing for an empty list. */
  write(spans: readonly TraceSpan[]): void;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/** Opens `path` for appending (its folder is created). */
export function createOtlpJsonlWriter(path: string): OtlpJsonlWriter {
  mkdirSync(dirname(path), { recursive: true });
  const stream = createWriteStream(path, { flags: 'a' });
  let failure: Error | undefined;
  stream.on('error', (error) => {
    failure = error;
  });
  return {
    path,
    write(spans) {
      if (failure) throw writeFailed(path, failure);
      if (spans.length > 0) stream.write(`${JSON.stringify(toOtlpJson(spans))}\n`);
    },
    close() {
      return new Promise((resolve, reject) => {
        stream.end(() => (failure ? reject(writeFailed(path, failure)) : resolve()));
      });
    },
  };
}

/** The spans of each line of `path` in turn. */
export async function* readOtlpJsonl(path: string): AsyncGenerator<TraceSpan[]> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const line of lines) {
    number += 1;
    if (line.trim() === '') continue;
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch (error) {
      throw new PlanewrightError(
        'PW_TRACES_JSONL_INVALID',
        `${path}:${number} is not JSON (${(error as Error).message})`,
        'each line must be one OTLP ExportTraceServiceRequest',
      );
    }
    yield spansFromOtlp(request).spans;
  }
}

/** Reads a whole OTLP JSON lines file into a store (a new one unless `into` is given). */
export async function loadOtlpJsonl(
  path: string,
  into: TraceStore | TraceStoreOptions = {},
): Promise<TraceStore> {
  const store = into instanceof TraceStore ? into : new TraceStore(into);
  for await (const spans of readOtlpJsonl(path)) store.add(spans);
  return store;
}

function writeFailed(path: string, error: Error): PlanewrightError {
  return new PlanewrightError(
    'PW_TRACES_WRITE_FAILED',
    `cannot write ${path}: ${error.message}`,
    'check that the folder is writable',
  );
}
