import { type FieldDef, isFilterable, type Schema, type SObjectDef } from './schema.ts';

// The SOAP type clients use to parse each field type's values.
const soapTypes: Record<FieldDef['type'], string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  textarea: 'xsd:string',
  email: 'xsd:string',
  phone: 'xsd:string',
  url: 'xsd:string',
  picklist: 'xsd:string',
  combobox: 'xsd:string',
  boolean: 'xsd:boolean',
  int: 'xsd:int',
  double: 'xsd:double',
  currency: 'xsd:double',
  percent: 'xsd:double',
  date: 'xsd:date',
  datetime: 'xsd:dateTime',
};

const objectUrls = (apiVersion: string, name: string) => {
  const base = `/services/data/v${apiVersion}/sobjects/${name}`;
  return { sobject: base, describe: `${base}/describe`, rowTemplate: `${base}/{ID}` };
};

/** The object-level flags shared by describe and describeGlobal. */
function objectSummary(object: SObjectDef, apiVersion: string) {
  return {
    name: object.name,
    label: object.label,
    labelPlural: object.labelPlural,
    keyPrefix: object.keyPrefix,
    custom: false,
    customSetting: false,
    activateable: false,
    createable: true,
    updateable: true,
    deletable: true,
    undeletable: true,
    queryable: true,
    retrieveable: true,
    searchable: true,
    layoutable: true,
    mergeable: object.name === 'Account' || object.name === 'Contact',
    replicateable: true,
    triggerable: true,
    feedEnabled: false,
    mruEnabled: true,
    deprecatedAndHidden: false,
    hasSubtypes: false,
    isSubtype: false,
    isInterface: false,
    idEnabled: true,
    deepCloneable: false,
    urls: objectUrls(apiVersion, object.name),
  };
}

function describeField(field: FieldDef) {
  const numeric = ['int', 'double', 'currency', 'percent'].includes(field.type);
  const sortable = isFilterable(field);
  return {
    name: field.name,
    label: field.label,
    type: field.type,
    soapType: soapTypes[field.type],
    length: field.length ?? 0,
    byteLength: (field.length ?? 0) * 3,
    precision: numeric && field.type !== 'int' ? 18 : 0,
    scale: field.type === 'currency' || field.type === 'double' ? 2 : 0,
    digits: field.type === 'int' ? 9 : 0,
    nillable: field.nillable,
    createable: field.createable,
    updateable: field.updateable,
    defaultedOnCreate: field.defaultedOnCreate ?? false,
    defaultValue: field.defaultValue ?? null,
    externalId: field.externalId ?? false,
    unique: field.unique ?? false,
    idLookup: field.idLookup ?? false,
    nameField: field.nameField ?? false,
    custom: field.custom ?? false,
    autoNumber: field.autoNumber ?? false,
    calculated: field.calculated ?? false,
    caseSensitive: false,
    filterable: isFilterable(field),
    sortable,
    groupable: sortable && !numeric && field.type !== 'datetime',
    aggregatable: sortable,
    referenceTo: field.referenceTo ?? [],
    relationshipName: field.relationshipName ?? null,
    picklistValues: (field.picklistValues ?? []).map((value) => ({
      active: true,
      defaultValue: value === field.defaultValue,
      label: value,
      validFor: null,
      value,
    })),
    restrictedPicklist: false,
    htmlFormatted: false,
    deprecatedAndHidden: false,
  };
}

/** `GET /sobjects/{type}/describe`: the object's flags, fields and child relationships. */
export function describeSObject(schema: Schema, object: SObjectDef, apiVersion: string) {
  const childRelationships = schema.objects().flatMap((child) =>
    child.fields
      .filter((f) => f.type === 'reference' && f.referenceTo?.includes(object.name))
      .map((f) => ({
        childSObject: child.name,
        field: f.name,
        relationshipName: child.labelPlural,
        cascadeDelete: false,
        restrictedDelete: false,
        deprecatedAndHidden: false,
        junctionIdListNames: [],
        junctionReferenceTo: [],
      })),
  );
  return {
    ...objectSummary(object, apiVersion),
    fields: object.fields.map(describeField),
    childRelationships,
    recordTypeInfos: [],
    actionOverrides: [],
    namedLayoutInfos: [],
    supportedScopes: [],
    compactLayoutable: true,
    listviewable: true,
    lookupLayoutable: true,
    searchLayoutable: true,
    networkScopeFieldName: null,
  };
}

/** `GET /sobjects`: every object the org has. */
export function describeGlobal(schema: Schema, apiVersion: string) {
  return {
    encoding: 'UTF-8',
    maxBatchSize: 200,
    sobjects: schema.objects().map((o) => objectSummary(o, apiVersion)),
  };
}
