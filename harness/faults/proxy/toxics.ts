// Toxics as the API sees them: their types and attributes, how a create or update body is read
// (in Toxiproxy's order, with its errors), and their JSON. What each toxic does to traffic is in
// behaviors.ts.
import { badRequestBody, invalidStream, invalidToxicType, toxicAlreadyExists } from './api-error.ts';
import { integerField, type JsonObject, numberField, objectBody, stringField } from './decode.ts';

/** Attributes of each toxic type, in Toxiproxy's units. */
export interface ToxicAttributes {
  /** Each chunk is held `latency` ± `jitter` ms after it arrived. */
  latency: { latency: number; jitter: number };
  /** At most `rate` KB/s (1 KB = 1000 bytes); 0 lets everything through. */
  bandwidth: { rate: number };
  /** The close (FIN) is passed on `delay` ms late. */
  slow_close: { delay: number };
  /** Data is dropped; the connection closes after `timeout` ms without data (0: never). */
  timeout: { timeout: number };
  /** On the first data, waits `timeout` ms, then resets (RST) both sides. */
  reset_peer: { timeout: number };
  /** Chunks are cut into pieces of `average_size` ± `size_variation` bytes, `delay` µs apart. */
  slicer: { average_size: number; size_variation: number; delay: number };
  /** `bytes` pass, then the connection closes. */
  limit_data: { bytes: number };
}

export type ToxicType = keyof ToxicAttributes;
export type Stream = 'upstream' | 'downstream';

/** Longest wait a toxic may ask for: one hour, so every timer ends. */
export const maxToxicWaitMs = 3_600_000;
const ms = { min: 0, max: maxToxicWaitMs };
const big = { min: 0, max: Number.MAX_SAFE_INTEGER };

type Bounds = { min: number; max: number };

// each attribute is an integer (Go's int64) within these bounds
const attributeSpecs: { [T in ToxicType]: Record<keyof ToxicAttributes[T], Bounds> } = {
  latency: { latency: ms, jitter: ms },
  bandwidth: { rate: { min: 0, max: 10_000_000 } },
  slow_close: { delay: ms },
  timeout: { timeout: ms },
  reset_peer: { timeout: ms },
  slicer: { average_size: big, size_variation: big, delay: { min: 0, max: maxToxicWaitMs * 1000 } },
  limit_data: { bytes: big },
};

export const toxicTypes = Object.keys(attributeSpecs) as ToxicType[];

export function isToxicType(type: string): type is ToxicType {
  return Object.hasOwn(attributeSpecs, type);
}

/** A toxic of one proxy, of one type. */
export interface ToxicOf<T extends ToxicType> {
  name: string;
  type: T;
  /** As given (Toxiproxy keeps the spelling; `UPSTREAM` is upstream). */
  stream: string;
  direction: Stream;
  /** Chance, per connection and stream, that the toxic acts (Toxiproxy: `draw < toxicity`). */
  toxicity: number;
  attributes: ToxicAttributes[T];
  /** Changes with every add or update of a toxic on the proxy; part of the key of its seeded draws. */
  revision: number;
}

/** A toxic of one proxy: narrowing on `type` narrows `attributes`. */
export type Toxic = { [T in ToxicType]: ToxicOf<T> }[ToxicType];

/** The toxic's JSON, field for field as Toxiproxy's ToxicWrapper. */
export interface ToxicView {
  attributes: Record<string, number>;
  name: string;
  type: ToxicType;
  stream: string;
  toxicity: number;
}

export function toxicView(toxic: Toxic): ToxicView {
  return {
    attributes: { ...toxic.attributes } as Record<string, number>,
    name: toxic.name,
    type: toxic.type,
    stream: toxic.stream,
    toxicity: toxic.toxicity,
  };
}

/** What POST /proxies/{proxy}/toxics accepts (Toxiproxy's defaults: downstream, toxicity 1). */
export interface ToxicInput {
  name?: string;
  type: ToxicType | string;
  stream?: Stream | string;
  toxicity?: number;
  attributes?: Record<string, number>;
}

/** Reads a new toxic, checking in Toxiproxy's order; `exists` says whether a name is taken (409). */
export function parseToxic(body: unknown, exists: (name: string) => boolean, revision: number): Toxic {
  const wrapper = objectBody(body, 'toxics.ToxicWrapper');
  const name = stringField(wrapper, 'name', 'ToxicWrapper');
  const type = stringField(wrapper, 'type', 'ToxicWrapper') ?? '';
  const stream = stringField(wrapper, 'stream', 'ToxicWrapper') ?? 'downstream';
  const toxicity = numberField(wrapper, 'toxicity', 'ToxicWrapper') ?? 1;
  const rawAttributes = attributesObject(wrapper);
  const direction = stream.toLowerCase();
  if (direction !== 'upstream' && direction !== 'downstream') throw invalidStream();
  const resolvedName = name || `${type}_${stream}`;
  if (!isToxicType(type)) throw invalidToxicType();
  if (exists(resolvedName)) throw toxicAlreadyExists();
  const attributes = readAttributes(type, rawAttributes, undefined);
  return { name: resolvedName, type, stream, direction, toxicity, attributes, revision } as Toxic;
}

/** Reads an update: attributes merge into the current ones, toxicity replaces; other fields are ignored. */
export function parseToxicUpdate(body: unknown, current: Toxic, revision: number): Toxic {
  const wrapper = objectBody(body, 'toxics.ToxicWrapper');
  const toxicity = numberField(wrapper, 'toxicity', 'ToxicWrapper') ?? current.toxicity;
  const attributes = readAttributes(current.type, attributesObject(wrapper), current.attributes);
  return { ...current, toxicity, attributes, revision } as Toxic;
}

function attributesObject(wrapper: JsonObject): JsonObject {
  const value = wrapper.attributes;
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) {
    const kind = Array.isArray(value) ? 'array' : typeof value === 'boolean' ? 'bool' : typeof value;
    throw badRequestBody(`json: cannot unmarshal ${kind} into Go struct field ToxicWrapper.attributes`);
  }
  return value as JsonObject;
}

function readAttributes<T extends ToxicType>(
  type: T,
  body: JsonObject,
  current: ToxicAttributes[T] | undefined,
): ToxicAttributes[T] {
  const result: Record<string, number> = {};
  for (const [field, bounds] of Object.entries(attributeSpecs[type]) as [string, Bounds][]) {
    const previous = current ? (current as Record<string, number>)[field]! : 0;
    result[field] = integerField(body, field, 'ToxicWrapper.attributes', bounds) ?? previous;
  }
  if (type === 'slicer') checkSlicer(result as ToxicAttributes['slicer']);
  return result as ToxicAttributes[T];
}

// Toxiproxy 2.13 rejects these too: a zero average would slice forever
function checkSlicer({ average_size, size_variation }: ToxicAttributes['slicer']): void {
  if (average_size <= 0) throw badRequestBody('average_size must be greater than 0');
  if (size_variation > average_size) {
    throw badRequestBody('size_variation must be between 0 and average_size');
  }
}
