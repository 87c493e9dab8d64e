'use strict';
// Envoy's own xDS v3 .proto files (the copies @grpc/grpc-js-xds ships), loaded twice over the same
// include path: by @grpc/proto-loader for the gRPC service definitions, and by the protobufjs it
// uses for encoding resources into Any and for the proto3 JSON mapping that the REST transport
// and file-based EDS need. Messages are plain objects with the .proto's snake_case field names.

const fs = require('fs');
const path = require('path');

for (const name of ['@grpc/grpc-js', '@grpc/proto-loader', '@grpc/grpc-js-xds']) {
  try {
    require.resolve(`${name}/package.json`);
  } catch {
    throw new Error(`node package ${name} is missing in tests/peers/node_modules ` +
      '(run scripts/install-deps.sh, or npm install in tests/peers)');
  }
}

const protoLoader = require('@grpc/proto-loader');
// The protobufjs instance proto-loader itself runs on, so both see the same well-known types
// (proto-loader registers descriptor.proto into it when it loads).
const protobuf = require(require.resolve('protobufjs', {
  paths: [path.dirname(require.resolve('@grpc/proto-loader'))],
}));

const XDS_DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const INCLUDE_DIRS = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map(
  (dir) => path.join(XDS_DEPS, dir));
const PROTO_FILES = [
  'envoy/service/endpoint/v3/eds.proto',
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
];

const EDS_TYPE_URL = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

// How decoded messages look everywhere in these tests: snake_case names, enums by name, 64-bit
// integers as strings, unset fields present with their defaults (so a missing version_info reads
// as '' and a missing error_detail as null).
const OBJECT_OPTIONS = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  arrays: true,
  objects: true,
  oneofs: true,
};

function loadRoot() {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => {
    if (path.isAbsolute(target)) return target;
    for (const dir of INCLUDE_DIRS) {
      const candidate = path.join(dir, target);
      if (fs.existsSync(candidate)) return candidate;
    }
    // protobufjs supplies google/protobuf/*.proto itself.
    return target;
  };
  root.loadSync(PROTO_FILES, { keepCase: true });
  root.resolveAll();
  return root;
}

const root = loadRoot();
const packageDefinition = protoLoader.loadSync(PROTO_FILES, {
  ...OBJECT_OPTIONS,
  includeDirs: INCLUDE_DIRS,
});

const types = {
  DiscoveryRequest: root.lookupType('envoy.service.discovery.v3.DiscoveryRequest'),
  DiscoveryResponse: root.lookupType('envoy.service.discovery.v3.DiscoveryResponse'),
  DeltaDiscoveryRequest: root.lookupType('envoy.service.discovery.v3.DeltaDiscoveryRequest'),
  DeltaDiscoveryResponse: root.lookupType('envoy.service.discovery.v3.DeltaDiscoveryResponse'),
  ClusterLoadAssignment: root.lookupType('envoy.config.endpoint.v3.ClusterLoadAssignment'),
};

function typeNameOfUrl(typeUrl) {
  return typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
}

function lookupTypeOfUrl(typeUrl) {
  return root.lookupType(typeNameOfUrl(typeUrl));
}

// Encodes a plain object (or passes raw bytes through) as the given message type. fromObject is
// lenient on purpose: tests may hand in values a control plane should never send (port 0).
function encode(type, value) {
  if (Buffer.isBuffer(value)) return value;
  return Buffer.from(type.encode(type.fromObject(value)).finish());
}

function decode(type, bytes) {
  return type.toObject(type.decode(bytes), OBJECT_OPTIONS);
}

function toAny(typeUrl, value) {
  return { type_url: typeUrl, value: encode(lookupTypeOfUrl(typeUrl), value) };
}

function fromAny(any) {
  return decode(lookupTypeOfUrl(any.type_url), Buffer.from(any.value));
}

// protobufjs defines google.protobuf.Value itself, with camelCase field names whatever keepCase
// says; these are the names its objects use for Value's oneof members.
const VALUE_TYPE = root.lookupType('google.protobuf.Value');
const VALUE_KEY = Object.fromEntries(
  ['null_value', 'number_value', 'string_value', 'bool_value', 'struct_value', 'list_value'].map(
    (name) => [name, VALUE_TYPE.fields[name] ? name : snakeToCamel(name)]));

function snakeToCamel(name) {
  return name.replace(/_([a-z0-9])/g, (m, c) => c.toUpperCase());
}

// google.protobuf.Struct from a plain JSON object, in protobufjs object form.
function structOf(object) {
  const fields = {};
  for (const [key, value] of Object.entries(object)) fields[key] = valueOf(value);
  return { fields };
}

function valueOf(value) {
  if (value === null) return { [VALUE_KEY.null_value]: 'NULL_VALUE' };
  if (typeof value === 'number') return { [VALUE_KEY.number_value]: value };
  if (typeof value === 'string') return { [VALUE_KEY.string_value]: value };
  if (typeof value === 'boolean') return { [VALUE_KEY.bool_value]: value };
  if (Array.isArray(value)) return { [VALUE_KEY.list_value]: { values: value.map(valueOf) } };
  if (typeof value === 'object') return { [VALUE_KEY.struct_value]: structOf(value) };
  throw new Error(`no google.protobuf.Value for ${typeof value}`);
}

// A google.protobuf.Value object (either spelling of its members) back to plain JSON.
function plainOfValue(value) {
  const get = (name) => (name in value ? value[name] : value[VALUE_KEY[name]]);
  if (get('null_value') !== undefined && get('null_value') !== null) return null;
  if (get('number_value') !== undefined && get('number_value') !== null) return get('number_value');
  if (get('string_value') !== undefined && get('string_value') !== null) return get('string_value');
  if (get('bool_value') !== undefined && get('bool_value') !== null) return get('bool_value');
  if (get('struct_value')) return plainOfStruct(get('struct_value'));
  if (get('list_value')) return (get('list_value').values || []).map(plainOfValue);
  return null;
}

// A google.protobuf.Struct object back to plain JSON.
function plainOfStruct(struct) {
  const out = {};
  for (const [key, value] of Object.entries((struct && struct.fields) || {})) {
    out[key] = plainOfValue(value);
  }
  return out;
}

// ---- proto3 JSON mapping (https://protobuf.dev/programming-guides/json/) ----

const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value',
  'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `google.protobuf.${n}`));
const LONG_TYPES = new Set(['int64', 'uint64', 'sint64', 'fixed64', 'sfixed64']);

function fullNameOf(type) {
  return type.fullName.replace(/^\./, '');
}

function jsonNameOf(field) {
  return snakeToCamel(field.name);
}

// Plain object as protobufjs toObject gives it, but with the proto3 JSON scalar forms.
const JSON_SOURCE_OPTIONS = { keepCase: true, longs: String, enums: String, bytes: String,
  defaults: false, arrays: false, objects: false, oneofs: false };

// A message (bytes or protobufjs-form object) in the proto3 JSON mapping. With
// { protoNames: true } fields keep their .proto names (snake_case), as Envoy's YAML examples
// write them; otherwise they get the canonical lowerCamelCase JSON names.
function messageToJson(type, bytesOrObject, options = {}) {
  const bytes = Buffer.isBuffer(bytesOrObject) ? bytesOrObject : encode(type, bytesOrObject);
  const object = type.toObject(type.decode(bytes), JSON_SOURCE_OPTIONS);
  return objectToJson(type, object, options);
}

function objectToJson(type, object, options) {
  const special = wellKnownToJson(type, object, options);
  if (special !== undefined) return special;
  const out = {};
  for (const field of type.fieldsArray) {
    const value = object[field.name];
    if (value === undefined || value === null) continue;
    out[options.protoNames ? field.name : jsonNameOf(field)] = fieldToJson(field, value, options);
  }
  return out;
}

function fieldToJson(field, value, options) {
  field.resolve();
  if (field.map) {
    const out = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = scalarOrMessageToJson(field, item, options);
    }
    return out;
  }
  if (field.repeated) return value.map((item) => scalarOrMessageToJson(field, item, options));
  return scalarOrMessageToJson(field, value, options);
}

function scalarOrMessageToJson(field, value, options) {
  if (field.resolvedType instanceof protobuf.Type) {
    return objectToJson(field.resolvedType, value, options);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) {
    return Number.isNaN(value) ? 'NaN' : (value > 0 ? 'Infinity' : '-Infinity');
  }
  return value;
}

function durationToJson(object) {
  const seconds = BigInt(object.seconds || 0);
  const nanos = object.nanos || 0;
  const negative = seconds < 0n || nanos < 0;
  const abs = (n) => (n < 0 ? -n : n);
  let text = `${abs(seconds)}`;
  if (nanos !== 0) text += `.${String(Math.abs(nanos)).padStart(9, '0').replace(/0+$/, '')}`;
  return `${negative ? '-' : ''}${text}s`;
}

function structValueToJson(value) {
  return plainOfValue(value);
}

function structToJson(struct) {
  return plainOfStruct(struct);
}

function anyToJson(object, options) {
  const inner = lookupTypeOfUrl(object.type_url);
  const json = messageToJson(inner, Buffer.from(object.value || '', 'base64'), options);
  if (isWellKnown(inner)) return { '@type': object.type_url, value: json };
  return { '@type': object.type_url, ...json };
}

function isWellKnown(type) {
  const name = fullNameOf(type);
  return WRAPPERS.has(name) || ['google.protobuf.Struct', 'google.protobuf.Value',
    'google.protobuf.ListValue', 'google.protobuf.Duration', 'google.protobuf.Timestamp',
    'google.protobuf.Any', 'google.protobuf.FieldMask', 'google.protobuf.Empty'].includes(name);
}

function wellKnownToJson(type, object, options) {
  const name = fullNameOf(type);
  if (WRAPPERS.has(name)) return object.value ?? defaultOfWrapper(name);
  switch (name) {
    case 'google.protobuf.Any': return anyToJson(object, options);
    case 'google.protobuf.Struct': return structToJson(object);
    case 'google.protobuf.Value': return structValueToJson(object);
    case 'google.protobuf.ListValue': return (object.values || []).map(structValueToJson);
    case 'google.protobuf.Duration': return durationToJson(object);
    case 'google.protobuf.Timestamp': return timestampToJson(object);
    case 'google.protobuf.FieldMask': return (object.paths || []).map(
      (p) => p.replace(/_([a-z])/g, (m, c) => c.toUpperCase())).join(',');
    default: return undefined;
  }
}

function defaultOfWrapper(name) {
  if (name.endsWith('BoolValue')) return false;
  if (name.endsWith('StringValue') || name.endsWith('BytesValue')) return '';
  if (name.endsWith('Int64Value')) return '0';
  return 0;
}

function timestampToJson(object) {
  const millis = Number(BigInt(object.seconds || 0) * 1000n) + Math.floor((object.nanos || 0) / 1e6);
  return new Date(millis).toISOString();
}

// proto3 JSON to the plain object form protobufjs fromObject takes. Accepts both the JSON names
// (lowerCamelCase) and the .proto names, as protobuf's own parsers do; unknown fields are errors.
function jsonToObject(type, json, where = fullNameOf(type)) {
  const special = wellKnownFromJson(type, json, where);
  if (special !== undefined) return special;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new Error(`${where}: expected a JSON object`);
  }
  const out = {};
  for (const [key, value] of Object.entries(json)) {
    const field = type.fields[key] || type.fieldsArray.find((f) => jsonNameOf(f) === key);
    if (!field) throw new Error(`${where}: unknown field "${key}"`);
    if (value === null) continue;
    out[field.name] = fieldFromJson(field, value, `${where}.${key}`);
  }
  return out;
}

function fieldFromJson(field, value, where) {
  field.resolve();
  if (field.map) {
    const out = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = scalarOrMessageFromJson(field, item, `${where}.${key}`);
    }
    return out;
  }
  if (field.repeated) {
    if (!Array.isArray(value)) throw new Error(`${where}: expected a JSON array`);
    return value.map((item, i) => scalarOrMessageFromJson(field, item, `${where}[${i}]`));
  }
  return scalarOrMessageFromJson(field, value, where);
}

function scalarOrMessageFromJson(field, value, where) {
  if (field.resolvedType instanceof protobuf.Type) {
    return jsonToObject(field.resolvedType, value, where);
  }
  if (LONG_TYPES.has(field.type)) return String(value);
  return value;
}

function durationFromJson(text, where) {
  const match = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
  if (!match) throw new Error(`${where}: bad duration "${text}"`);
  const sign = match[1] ? -1 : 1;
  const nanos = match[3] ? Number(match[3].padEnd(9, '0')) : 0;
  return { seconds: String(sign * Number(match[2])), nanos: sign * nanos };
}

function structValueFromJson(value) {
  return valueOf(value);
}

function anyFromJson(json, where) {
  const typeUrl = json['@type'];
  if (typeof typeUrl !== 'string') throw new Error(`${where}: Any without "@type"`);
  const inner = lookupTypeOfUrl(typeUrl);
  const rest = { ...json };
  delete rest['@type'];
  const object = isWellKnown(inner)
    ? jsonToObject(inner, rest.value, where)
    : jsonToObject(inner, rest, where);
  return { type_url: typeUrl, value: encode(inner, object) };
}

function wellKnownFromJson(type, json, where) {
  const name = fullNameOf(type);
  if (WRAPPERS.has(name)) return { value: name.endsWith('Int64Value') ? String(json) : json };
  switch (name) {
    case 'google.protobuf.Any': return anyFromJson(json, where);
    case 'google.protobuf.Struct': return structOf(json);
    case 'google.protobuf.Value': return structValueFromJson(json);
    case 'google.protobuf.ListValue': return { values: json.map(structValueFromJson) };
    case 'google.protobuf.Duration': return durationFromJson(json, where);
    default: return undefined;
  }
}

// A proto3 JSON document to the decoded plain-object form used for gRPC messages.
function parseJsonMessage(type, json) {
  const object = jsonToObject(type, json);
  return type.toObject(type.fromObject(object), OBJECT_OPTIONS);
}

module.exports = {
  EDS_TYPE_URL,
  INCLUDE_DIRS,
  OBJECT_OPTIONS,
  PROTO_FILES,
  packageDefinition,
  root,
  types,
  encode,
  decode,
  toAny,
  fromAny,
  structOf,
  plainOfStruct,
  messageToJson,
  parseJsonMessage,
};
