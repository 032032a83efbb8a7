import { keyPrefixes } from './ids.ts';
import { standardObjects } from './objects.ts';

/** Field types as describe names them (a subset of Salesforce's). */
export type FieldType =
  | 'id'
  | 'reference'
  | 'string'
  | 'textarea'
  | 'email'
  | 'phone'
  | 'url'
  | 'picklist'
  | 'combobox'
  | 'boolean'
  | 'int'
  | 'double'
  | 'currency'
  | 'percent'
  | 'date'
  | 'datetime';

export type FieldDef = {
  name: string;
  label: string;
  type: FieldType;
  /** Maximum characters for text types. */
  length?: number;
  nillable: boolean;
  createable: boolean;
  updateable: boolean;
  /** Salesforce fills the field when a create leaves it out (owner, picklist defaults, system fields). */
  defaultedOnCreate?: boolean;
  defaultValue?: string | boolean | number;
  externalId?: boolean;
  unique?: boolean;
  idLookup?: boolean;
  nameField?: boolean;
  custom?: boolean;
  autoNumber?: boolean;
  /** Computed by the object's `derive` after every write. */
  calculated?: boolean;
  /** Long text areas: Salesforce refuses them in WHERE and ORDER BY. */
  filterable?: boolean;
  referenceTo?: string[];
  relationshipName?: string;
  picklistValues?: string[];
};

export type SObjectDef = {
  name: string;
  label: string;
  labelPlural: string;
  keyPrefix: string;
  fields: FieldDef[];
  /** Recomputes calculated fields (Contact.Name, IsClosed, …) from the others. */
  derive?: (record: Record<string, unknown>) => void;
};

/** A field is required when a create must give it: not nillable, writable, and not filled in for you. */
export const isRequired = (field: FieldDef): boolean =>
  !field.nillable && field.createable && !field.defaultedOnCreate;

export const isTextType = (type: FieldType): boolean =>
  ['string', 'textarea', 'email', 'phone', 'url', 'picklist', 'combobox'].includes(type);

export const isNumberType = (type: FieldType): boolean =>
  ['int', 'double', 'currency', 'percent'].includes(type);

export const isFilterable = (field: FieldDef): boolean => field.filterable !== false;

export type Schema = {
  objects(): SObjectDef[];
  /** The object named so, case-insensitively (SOQL and URLs are case-insensitive). */
  object(name: string): SObjectDef | undefined;
  field(object: SObjectDef, name: string): FieldDef | undefined;
  /** The reference field whose relationship name is `name` (Account on Contact.AccountId). */
  relationship(object: SObjectDef, name: string): FieldDef | undefined;
  /** The object whose records have ids starting with this key prefix. */
  objectForId(id: string): SObjectDef | undefined;
};

/** A schema over the given objects; the default is the five standard objects the simulator models. */
export function createSchema(objects: SObjectDef[] = standardObjects): Schema {
  const byName = new Map(objects.map((o) => [o.name.toLowerCase(), o]));
  const byPrefix = new Map(objects.map((o) => [o.keyPrefix, o]));
  const fieldMaps = new Map(
    objects.map((o) => [o, new Map(o.fields.map((f) => [f.name.toLowerCase(), f]))] as const),
  );
  const relationshipMaps = new Map(
    objects.map(
      (o) =>
        [
          o,
          new Map(
            o.fields.filter((f) => f.relationshipName).map((f) => [f.relationshipName!.toLowerCase(), f]),
          ),
        ] as const,
    ),
  );
  return {
    objects: () => [...objects],
    object: (name) => byName.get(name.toLowerCase()),
    field: (object, name) => fieldMaps.get(object)?.get(name.toLowerCase()),
    relationship: (object, name) => relationshipMaps.get(object)?.get(name.toLowerCase()),
    objectForId: (id) => byPrefix.get(id.slice(0, 3)),
  };
}

/** Key prefixes of the objects a reference may point to, including User (not stored as records). */
export function referencePrefixes(field: FieldDef): string[] {
  return (field.referenceTo ?? []).map((name) => keyPrefixes[name as keyof typeof keyPrefixes] ?? '');
}
