// End-to-end flow of the official Qdrant gRPC JS client (@qdrant/js-client-grpc) against a
// vecinfer gRPC server: collections and aliases, explicit dense/sparse vectors, server-side
// inference (MiniLM dense + qdrant/bm25 sparse Documents), legacy search and recommend, the
// universal query (nearest, prefetch + RRF, recommend, order_by), scroll, count, groups, facet.
// Every expected answer is computed here from the points the flow upserts.
//
// Usage: node grpc_flow.mjs [http://127.0.0.1:6334]   (or VECINFER_GRPC_URL)
// Exits 0 and prints a JSON summary on success; exits 1 naming the failing step on any mismatch.
import {
  QdrantClient,
  ConnectError,
  ConnectErrorCode,
  Direction,
  Distance,
  FieldType,
  Fusion,
  Modifier,
  RecommendStrategy,
  UpdateStatus,
  toDenseVector,
  toSparseVector,
} from '@qdrant/js-client-grpc';

const url = process.argv[2] || process.env.VECINFER_GRPC_URL || 'http://127.0.0.1:6334';
const COLLECTION = `js_grpc_flow_${process.pid}`;
const ALIAS = `${COLLECTION}_alias`;
const ALIAS2 = `${COLLECTION}_renamed`;
const MINILM = 'sentence-transformers/all-minilm-l6-v2';
const BM25 = 'qdrant/bm25';
const TOL = 1e-4;
const UUID = '5c56c793-69f3-4fbf-87e6-c4bf54c28c26';

// Explicit points: a 4-d `dense` (Cosine) and a `sparse` vector (dot product), and a payload.
const POINTS = [
  { id: 1, dense: [1, 0, 0, 0], sparse: { 0: 1.0, 3: 0.5 }, group: 'a', price: 30 },
  { id: 2, dense: [0.9, 0.1, 0, 0], sparse: { 0: 0.5, 1: 1.0 }, group: 'a', price: 10 },
  { id: 3, dense: [0.5, 0.5, 0, 0], sparse: { 1: 0.8, 2: 0.4 }, group: 'b', price: 50 },
  { id: 4, dense: [0, 1, 0, 0], sparse: { 2: 1.0 }, group: 'b', price: 20 },
  { id: 5, dense: [0, 0.6, 0.8, 0], sparse: { 3: 1.0, 4: 0.2 }, group: 'b', price: 80 },
  { id: 6, dense: [0, 0, 1, 0], sparse: { 4: 1.0, 0: 0.1 }, group: 'c', price: 40 },
  { id: 7, dense: [0, 0, 0.2, 1], sparse: { 5: 1.0 }, group: 'b', price: 70 },
  { id: 8, dense: [-1, 0, 0, 0.3], sparse: { 1: 0.3, 5: 0.6 }, group: 'a', price: 60 },
  { id: UUID, dense: [0, -0.5, 0, -1], sparse: { 6: 1.0 }, group: 'c', price: 45 },
];
// Inference points: only `minilm` and `bm25`, embedded by the server from Documents.
const DOCS = [
  { id: 101, text: 'Recipe for baking chocolate chip cookies', topic: 'food' },
  { id: 102, text: 'The stock market fell sharply on Monday.', topic: 'finance' },
  { id: 103, text: 'How to change a flat tyre on a bicycle', topic: 'bikes' },
  { id: 104, text: 'A history of the Roman empire', topic: 'history' },
  { id: 105, text: 'Best hiking trails in Norway', topic: 'travel' },
  { id: 106, text: 'Bread baking for beginners: sourdough at home', topic: 'food' },
];
// Qdrant's id order (scroll): numeric ids ascending, then UUIDs.
const ALL_IDS = [...POINTS.map((p) => p.id), ...DOCS.map((d) => d.id)]
  .sort((a, b) => (typeof a === typeof b ? (a < b ? -1 : 1) : typeof a === 'number' ? -1 : 1));

// ---------------------------------------------------------------------------------------------
// Reference scoring (Qdrant's semantics): Cosine on normalized vectors, sparse dot product over
// shared indices, recommend average_vector = avg(pos) + (avg(pos) - avg(neg)), best_score with
// the scaled fast sigmoid, RRF = sum of 1 / (k + position) with k = 2 and 0-based positions.
const norm = (v) => {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};
const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);
const cosine = (a, b) => dot(norm(a), norm(b));
const sparseDot = (a, b) => Object.entries(a).reduce((s, [i, x]) => s + (b[i] !== undefined ? x * b[i] : 0), 0);
const scaledSigmoid = (x) => 0.5 * (x / (1 + Math.abs(x)) + 1);
const point = (id) => POINTS.find((p) => p.id === id);
const byScore = (entries) => entries.sort((x, y) => y.score - x.score);

function expectNearestDense(q, { exclude = [], filter = () => true } = {}) {
  return byScore(POINTS.filter((p) => !exclude.includes(p.id) && filter(p))
    .map((p) => ({ id: p.id, score: cosine(q, p.dense) })));
}
function expectNearestSparse(q) {
  // Sparse search only sees points sharing at least one index with the query.
  return byScore(POINTS.filter((p) => Object.keys(q).some((i) => p.sparse[i] !== undefined))
    .map((p) => ({ id: p.id, score: sparseDot(q, p.sparse) })));
}
function expectAverageVector(pos, neg) {
  const avg = (ids) => ids.map((id) => norm(point(id).dense)).reduce((s, v) => s.map((x, i) => x + v[i] / ids.length),
    [0, 0, 0, 0]);
  const ap = avg(pos);
  const q = neg.length ? ap.map((x, i) => 2 * x - avg(neg)[i]) : ap;
  return expectNearestDense(q, { exclude: [...pos, ...neg] });
}
function expectBestScore(pos, neg) {
  return byScore(POINTS.filter((p) => !pos.includes(p.id) && !neg.includes(p.id)).map((p) => {
    const maxPos = Math.max(...pos.map((id) => cosine(p.dense, point(id).dense)));
    const maxNeg = neg.length ? Math.max(...neg.map((id) => cosine(p.dense, point(id).dense))) : -Infinity;
    return { id: p.id, score: maxPos > maxNeg ? scaledSigmoid(maxPos) : -scaledSigmoid(maxNeg) };
  }));
}
function expectRrf(rankings, k = 2) {
  const scores = new Map();
  for (const ranking of rankings) {
    ranking.forEach((id, pos) => scores.set(id, (scores.get(id) ?? 0) + 1 / (pos + k)));
  }
  return byScore([...scores].map(([id, score]) => ({ id, score })));
}
function expectGroups(ranked, groupOf, limit, groupSize) {
  const groups = [];
  for (const hit of ranked) {
    let g = groups.find((x) => x.id === groupOf(hit.id));
    if (!g) {
      if (groups.length === limit) continue;
      g = { id: groupOf(hit.id), hits: [] };
      groups.push(g);
    }
    if (g.hits.length < groupSize) g.hits.push(hit);
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------
// Message helpers (protobuf-es init shapes: camelCase fields, oneofs as {case, value}, 64-bit
// integers as bigint).
const pid = (n) => ({ pointIdOptions: typeof n === 'string' ? { case: 'uuid', value: n } : { case: 'num', value: BigInt(n) } });
const idOf = (p) => {
  const o = (p.id ?? p).pointIdOptions;
  return o.case === 'num' ? Number(o.value) : o.value;
};
function toValue(x) {
  if (typeof x === 'string') return { kind: { case: 'stringValue', value: x } };
  if (typeof x === 'boolean') return { kind: { case: 'boolValue', value: x } };
  if (Number.isInteger(x)) return { kind: { case: 'integerValue', value: BigInt(x) } };
  if (typeof x === 'number') return { kind: { case: 'doubleValue', value: x } };
  if (Array.isArray(x)) return { kind: { case: 'listValue', value: { values: x.map(toValue) } } };
  if (x === null) return { kind: { case: 'nullValue', value: 0 } };
  return { kind: { case: 'structValue', value: { fields: toPayload(x) } } };
}
const toPayload = (obj) => Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, toValue(v)]));
function fromValue(v) {
  const { case: c, value } = v.kind;
  if (c === 'integerValue') return Number(value);
  if (c === 'listValue') return value.values.map(fromValue);
  if (c === 'structValue') return fromPayload(value.fields);
  if (c === 'nullValue') return null;
  return value;
}
const fromPayload = (p) => Object.fromEntries(Object.entries(p ?? {}).map(([k, v]) => [k, fromValue(v)]));
const dense = (data) => ({ vector: { case: 'dense', value: { data } } });
const sparseOf = (m) => {
  const indices = Object.keys(m).map(Number).sort((a, b) => a - b);
  return { indices, values: indices.map((i) => m[i]) };
};
const sparse = (m) => ({ vector: { case: 'sparse', value: sparseOf(m) } });
const doc = (text, model) => ({ vector: { case: 'document', value: { text, model } } });
const named = (vectors) => ({ vectorsOptions: { case: 'vectors', value: { vectors } } });
const nearest = (variant) => ({ variant: { case: 'nearest', value: { variant } } });
const denseInput = (data) => ({ case: 'dense', value: { data } });
const sparseInput = (m) => ({ case: 'sparse', value: sparseOf(m) });
const docInput = (text, model) => ({ case: 'document', value: { text, model } });
const idInput = (n) => ({ variant: { case: 'id', value: pid(n) } });
const PAYLOAD_ON = { selectorOptions: { case: 'enable', value: true } };
const VECTORS_ON = { selectorOptions: { case: 'enable', value: true } };
const field = (key, cond) => ({ conditionOneOf: { case: 'field', value: { key, ...cond } } });
const matchKeyword = (key, value) => field(key, { match: { matchValue: { case: 'keyword', value } } });
const range = (key, r) => field(key, { range: r });

// ---------------------------------------------------------------------------------------------
class Mismatch extends Error {}

const show = (x) => JSON.stringify(x, (k, v) => (typeof v === 'bigint' ? `${v}n` : v));
// Payload maps have no key order on the wire: compare with sorted keys.
const sortKeys = (x) => (Array.isArray(x) ? x.map(sortKeys) : x && typeof x === 'object'
  ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, sortKeys(x[k])])) : x);
const same = (a, b) => show(sortKeys(a)) === show(sortKeys(b));
function check(cond, what, got) {
  if (!cond) throw new Mismatch(`${what}; got: ${show(got)}`);
}
const close = (a, b, tol = TOL) => Math.abs(a - b) <= tol;
const hits = (points) => points.map((p) => ({ id: idOf(p), score: Number(p.score.toFixed(5)) }));

// got: ScoredPoints in answer order; expected: [{id, score}] sorted by score. Ids must come in
// the expected order, except that ids whose expected scores tie may come in any order.
function checkRanking(what, got, expected) {
  const ids = got.map(idOf);
  check(got.length === expected.length, `${what}: expected ${expected.length} hits ${show(expected.map((e) => e.id))}`,
    hits(got));
  for (let i = 0; i < expected.length; i++) {
    const tied = expected.filter((e) => close(e.score, expected[i].score, 1e-6)).map((e) => e.id);
    check(tied.includes(ids[i]), `${what}: hit ${i} must be ${tied.length > 1 ? `one of ${show(tied)}` : `point ${expected[i].id}`}`
      + ` (expected ${show(expected.map((e) => ({ id: e.id, score: Number(e.score.toFixed(5)) })))})`, hits(got));
    check(close(got[i].score, expected[i].score), `${what}: score of hit ${i} (point ${ids[i]}) must be `
      + `${expected[i].score.toFixed(5)}`, hits(got));
  }
}

// Every call goes through step() so that a failure names the operation that failed.
const steps = [];
async function step(name, fn) {
  const started = performance.now();
  try {
    const result = await fn();
    steps.push({ step: name, ms: Math.round(performance.now() - started) });
    return result;
  } catch (e) {
    e.step = e.step ?? name;
    throw e;
  }
}
async function expectError(name, code, fn) {
  try {
    await fn();
  } catch (e) {
    if (e instanceof ConnectError) {
      check(e.code === code, `${name}: expected gRPC status ${ConnectErrorCode[code]}`,
        { code: ConnectErrorCode[e.code], message: e.rawMessage });
      steps.push({ step: name, ms: 0 });
      return e;
    }
    e.step = e.step ?? name;
    throw e;
  }
  throw Object.assign(new Mismatch(`${name}: expected gRPC status ${ConnectErrorCode[code]}, got success`), { step: name });
}

async function main() {
  const client = new QdrantClient({ url, checkCompatibility: false, timeout: 120_000 });
  const collections = client.api('collections');
  const points = client.api('points');
  const service = client.api('service');
  const summary = { url, collection: COLLECTION };

  const health = await step('healthCheck', () => service.healthCheck({}));
  check(/^1\.\d+/.test(health.version), 'HealthCheck must report a 1.x version', health);
  summary.server_version = health.version;

  // ---- collections and aliases -----------------------------------------------------------------
  if ((await step('collectionExists (leftover?)', () => collections.collectionExists({ collectionName: COLLECTION })))
    .result?.exists) {
    await step('delete (leftover)', () => collections.delete({ collectionName: COLLECTION }));
  }

  const created = await step('create', () => collections.create({
    collectionName: COLLECTION,
    vectorsConfig: {
      config: {
        case: 'paramsMap',
        value: {
          map: {
            dense: { size: 4n, distance: Distance.Cosine },
            minilm: { size: 384n, distance: Distance.Cosine },
          },
        },
      },
    },
    sparseVectorsConfig: { map: { sparse: {}, bm25: { modifier: Modifier.Idf } } },
  }));
  check(created.result === true, 'Create must answer result: true', created);

  const info = await step('get', () => collections.get({ collectionName: COLLECTION }));
  const params = info.result?.config?.params;
  check(params?.vectorsConfig?.config?.case === 'paramsMap', 'collection params must hold a named-vectors map',
    params?.vectorsConfig);
  const vmap = params.vectorsConfig.config.value.map;
  check(vmap.dense?.size === 4n && vmap.dense.distance === Distance.Cosine, 'vector "dense" must be 4/Cosine', vmap.dense);
  check(vmap.minilm?.size === 384n && vmap.minilm.distance === Distance.Cosine, 'vector "minilm" must be 384/Cosine',
    vmap.minilm);
  check(Object.keys(vmap).sort().join() === 'dense,minilm', 'exactly the vectors dense and minilm', Object.keys(vmap));
  const smap = params.sparseVectorsConfig?.map ?? {};
  check(Object.keys(smap).sort().join() === 'bm25,sparse', 'exactly the sparse vectors bm25 and sparse', Object.keys(smap));
  check(smap.bm25.modifier === Modifier.Idf, 'sparse vector bm25 must have modifier Idf', smap.bm25);
  check((smap.sparse.modifier ?? Modifier.None) === Modifier.None, 'sparse vector "sparse" must have no modifier', smap.sparse);
  check(info.result.pointsCount === 0n, 'a new collection has 0 points', info.result.pointsCount);

  const listed = await step('list', () => collections.list({}));
  check(listed.collections.some((c) => c.name === COLLECTION), `List must include ${COLLECTION}`, listed.collections);

  const aliased = await step('updateAliases (create)', () => collections.updateAliases({
    actions: [{ action: { case: 'createAlias', value: { collectionName: COLLECTION, aliasName: ALIAS } } }],
  }));
  check(aliased.result === true, 'UpdateAliases must answer result: true', aliased);
  const aliases = await step('listAliases', () => collections.listAliases({}));
  check(aliases.aliases.some((a) => a.aliasName === ALIAS && a.collectionName === COLLECTION),
    `ListAliases must include ${ALIAS} -> ${COLLECTION}`, aliases.aliases);
  const colAliases = await step('listCollectionAliases', () => collections.listCollectionAliases({ collectionName: COLLECTION }));
  check(colAliases.aliases.length === 1 && colAliases.aliases[0].aliasName === ALIAS,
    `ListCollectionAliases(${COLLECTION}) must be exactly [${ALIAS}]`, colAliases.aliases);
  const viaAlias = await step('get (alias)', () => collections.get({ collectionName: ALIAS }));
  check(viaAlias.result?.config?.params?.vectorsConfig?.config?.value?.map?.dense?.size === 4n,
    'Get through the alias must show the collection', viaAlias.result?.config?.params);

  // ---- payload indexes and points ---------------------------------------------------------------
  for (const [fieldName, fieldType] of [['group', FieldType.FieldTypeKeyword], ['price', FieldType.FieldTypeInteger]]) {
    const indexed = await step(`createFieldIndex (${fieldName})`, () => points.createFieldIndex({
      collectionName: COLLECTION, wait: true, fieldName, fieldType,
    }));
    check(indexed.result?.status === UpdateStatus.Completed, 'CreateFieldIndex with wait must be Completed', indexed.result);
  }

  const upserted = await step('upsert (explicit vectors, via alias)', () => points.upsert({
    collectionName: ALIAS,
    wait: true,
    points: POINTS.map((p) => ({
      id: pid(p.id),
      vectors: named({ dense: dense(p.dense), sparse: sparse(p.sparse) }),
      payload: toPayload({ group: p.group, price: p.price, tags: [p.group, `p${p.id}`],
        meta: { n: p.id, half: typeof p.id === 'number' ? p.id / 2 : null } }),
    })),
  }));
  check(upserted.result?.status === UpdateStatus.Completed, 'Upsert with wait must be Completed', upserted.result);

  const inferred = await step('upsert (Documents: MiniLM + bm25)', () => points.upsert({
    collectionName: COLLECTION,
    wait: true,
    points: DOCS.map((d) => ({
      id: pid(d.id),
      vectors: named({ minilm: doc(d.text, MINILM), bm25: doc(d.text, BM25) }),
      payload: toPayload({ text: d.text, topic: d.topic }),
    })),
  }));
  check(inferred.result?.status === UpdateStatus.Completed, 'Upsert of Documents with wait must be Completed', inferred.result);
  const inferenceUsage = inferred.usage?.inference?.models ?? {};
  summary.inference_usage = Object.fromEntries(Object.entries(inferenceUsage).map(([m, u]) => [m, Number(u.tokens)]));
  check(Number(inferenceUsage[MINILM]?.tokens ?? 0) > 0, `upsert answer must report ${MINILM} tokens in usage.inference`,
    inferred.usage);

  // ---- count, get ------------------------------------------------------------------------------
  const total = await step('count (all)', () => points.count({ collectionName: COLLECTION, exact: true }));
  check(total.result?.count === BigInt(ALL_IDS.length), `Count must be ${ALL_IDS.length}`, total.result);
  const groupB = await step('count (alias, group=b)', () => points.count({
    collectionName: ALIAS, exact: true, filter: { must: [matchKeyword('group', 'b')] },
  }));
  check(groupB.result?.count === 4n, 'Count(group=b) must be 4', groupB.result);
  const pricey = await step('count (price in [30, 70))', () => points.count({
    collectionName: COLLECTION, exact: true, filter: { must: [range('price', { gte: 30, lt: 70 })] },
  }));
  const priceyIds = POINTS.filter((p) => p.price >= 30 && p.price < 70).map((p) => p.id);
  check(pricey.result?.count === BigInt(priceyIds.length), `Count(30 <= price < 70) must be ${priceyIds.length} `
    + `(points ${priceyIds})`, pricey.result);

  const got = await step('get (ids 1, 101, 999, uuid, with vectors)', () => points.get({
    collectionName: COLLECTION, ids: [pid(1), pid(101), pid(999), pid(UUID)], withPayload: PAYLOAD_ON, withVectors: VECTORS_ON,
  }));
  check(same(got.result.map((r) => String(idOf(r))).sort(), ['1', '101', UUID].sort()),
    `Get [1, 101, 999, ${UUID}] must return points 1, 101 and the UUID`, got.result.map(idOf));
  const rU = got.result.find((r) => idOf(r) === UUID);
  check(same(fromPayload(rU.payload), { group: 'c', price: 45, tags: ['c', `p${UUID}`], meta: { n: UUID, half: null } }),
    'payload of the UUID point must come back as sent', fromPayload(rU.payload));
  const r1 = got.result.find((r) => idOf(r) === 1);
  check(same(fromPayload(r1.payload), { group: 'a', price: 30, tags: ['a', 'p1'], meta: { n: 1, half: 0.5 } }),
    'payload of point 1 must come back as sent', fromPayload(r1.payload));
  check(r1.vectors?.vectorsOptions?.case === 'vectors', 'point 1 must carry named vectors', r1.vectors);
  const v1 = r1.vectors.vectorsOptions.value.vectors;
  check(Object.keys(v1).sort().join() === 'dense,sparse', 'point 1 has exactly the vectors dense and sparse', Object.keys(v1));
  const d1 = toDenseVector(v1.dense)?.data;
  check(d1?.length === 4 && d1.every((x, i) => close(x, [1, 0, 0, 0][i])), 'point 1 dense must be [1, 0, 0, 0]', d1);
  const s1 = toSparseVector(v1.sparse);
  check(show(s1?.indices) === '[0,3]' && close(s1.values[0], 1) && close(s1.values[1], 0.5),
    'point 1 sparse must be {0: 1, 3: 0.5}', s1);
  const r101 = got.result.find((r) => idOf(r) === 101);
  check(fromPayload(r101.payload).text === DOCS[0].text, 'payload of point 101 must come back as sent', r101.payload);
  const v101 = r101.vectors?.vectorsOptions?.value?.vectors ?? {};
  check(Object.keys(v101).sort().join() === 'bm25,minilm', 'point 101 has exactly the vectors bm25 and minilm', Object.keys(v101));
  const mini = toDenseVector(v101.minilm)?.data;
  check(mini?.length === 384, 'point 101: minilm must have 384 floats', mini?.length);
  check(close(Math.hypot(...mini), 1, 1e-3), 'point 101: a Cosine vector comes back normalized', Math.hypot(...mini));
  const bm = toSparseVector(v101.bm25);
  check(bm && bm.indices.length > 0 && bm.indices.length === bm.values.length, 'point 101: bm25 must be a non-empty sparse vector', bm);
  check(bm.indices.every((x, i) => i === 0 || bm.indices[i - 1] < x), 'point 101: bm25 indices must be ascending', bm.indices);
  check(bm.values.every((x) => x > 0), 'point 101: bm25 values must be positive', bm.values);
  summary.bm25_terms_101 = bm.indices.length;

  const Q = [1, 0.2, 0.1, 0.05];
  // ---- errors: the gRPC status codes Qdrant answers ---------------------------------------------
  await expectError('upsert (3 floats for a 4-d vector) -> InvalidArgument', ConnectErrorCode.InvalidArgument,
    () => points.upsert({ collectionName: COLLECTION, wait: true, points: [{ id: pid(50), vectors: named({ dense: dense([1, 2, 3]) }) }] }));
  await expectError('query (unknown vector name) -> InvalidArgument', ConnectErrorCode.InvalidArgument,
    () => points.query({ collectionName: COLLECTION, using: 'nope', query: nearest(denseInput(Q)) }));
  await expectError('count (missing collection) -> NotFound', ConnectErrorCode.NotFound,
    () => points.count({ collectionName: `${COLLECTION}_missing` }));
  const stillThere = await step('count (after refused writes)', () => points.count({ collectionName: COLLECTION, exact: true }));
  check(stillThere.result?.count === BigInt(ALL_IDS.length), 'a refused upsert must not add points', stillThere.result);

  // ---- legacy search and recommend -------------------------------------------------------------
  const searched = await step('search (legacy, alias)', () => points.search({
    collectionName: ALIAS, vectorName: 'dense', vector: Q, limit: 3n, withPayload: PAYLOAD_ON,
  }));
  checkRanking('Search dense [1, 0.2, 0.1, 0.05] limit 3', searched.result, expectNearestDense(Q).slice(0, 3));
  check(searched.result.every((p) => fromPayload(p.payload).price === point(idOf(p)).price),
    'Search hits must carry their payload', searched.result.map((p) => fromPayload(p.payload)));
  const searchedFiltered = await step('search (legacy, filter group=b, offset 1)', () => points.search({
    collectionName: COLLECTION, vectorName: 'dense', vector: Q, limit: 2n, offset: 1n,
    filter: { must: [matchKeyword('group', 'b')] },
  }));
  checkRanking('Search dense, group=b, offset 1, limit 2', searchedFiltered.result,
    expectNearestDense(Q, { filter: (p) => p.group === 'b' }).slice(1, 3));
  summary.search = hits(searched.result);

  const recAvg = await step('recommend (legacy, average_vector)', () => points.recommend({
    collectionName: COLLECTION, using: 'dense', positive: [pid(1)], negative: [pid(6)], limit: 4n,
  }));
  checkRanking('Recommend +[1] -[6] (average_vector) limit 4', recAvg.result, expectAverageVector([1], [6]).slice(0, 4));
  const recBest = await step('recommend (legacy, best_score)', () => points.recommend({
    collectionName: ALIAS, using: 'dense', positive: [pid(1), pid(3)], negative: [pid(6)], limit: 10n,
    strategy: RecommendStrategy.BestScore,
  }));
  checkRanking('Recommend +[1, 3] -[6] (best_score)', recBest.result, expectBestScore([1, 3], [6]));
  summary.recommend_best_score = hits(recBest.result);

  // ---- universal query -------------------------------------------------------------------------
  const qDense = await step('query (nearest dense)', () => points.query({
    collectionName: COLLECTION, using: 'dense', query: nearest(denseInput(Q)), limit: 5n,
  }));
  checkRanking('Query nearest dense limit 5', qDense.result, expectNearestDense(Q).slice(0, 5));

  const SQ = { 0: 1.0, 1: 0.4 };
  const qSparse = await step('query (nearest sparse)', () => points.query({
    collectionName: COLLECTION, using: 'sparse', query: nearest(sparseInput(SQ)), limit: 10n,
  }));
  checkRanking('Query nearest sparse {0: 1, 1: 0.4}', qSparse.result, expectNearestSparse(SQ));

  const QB = [0.2, 1, 0.3, 0];
  const denseTop4 = expectNearestDense(QB).slice(0, 4).map((e) => e.id);
  const sparseTop3 = expectNearestSparse(SQ).slice(0, 3).map((e) => e.id);
  const fused = await step('query (prefetch dense + sparse, RRF)', () => points.query({
    collectionName: ALIAS,
    prefetch: [
      { using: 'dense', query: nearest(denseInput(QB)), limit: 4n },
      { using: 'sparse', query: nearest(sparseInput(SQ)), limit: 3n },
    ],
    query: { variant: { case: 'fusion', value: Fusion.RRF } },
    limit: 5n,
  }));
  checkRanking(`Query RRF of dense ${show(denseTop4)} and sparse ${show(sparseTop3)}`, fused.result,
    expectRrf([denseTop4, sparseTop3]).slice(0, 5));
  summary.rrf = hits(fused.result);
  const fusedK = await step('query (prefetch, rrf k=10)', () => points.query({
    collectionName: COLLECTION,
    prefetch: [
      { using: 'dense', query: nearest(denseInput(QB)), limit: 4n },
      { using: 'sparse', query: nearest(sparseInput(SQ)), limit: 3n },
    ],
    query: { variant: { case: 'rrf', value: { k: 10 } } },
    limit: 10n,
  }));
  checkRanking('Query rrf {k: 10}', fusedK.result, expectRrf([denseTop4, sparseTop3], 10));

  const qRec = await step('query (recommend best_score, alias)', () => points.query({
    collectionName: ALIAS, using: 'dense', limit: 10n,
    query: { variant: { case: 'recommend', value: {
      positive: [idInput(1), idInput(3)], negative: [idInput(6)], strategy: RecommendStrategy.BestScore,
    } } },
  }));
  checkRanking('Query recommend +[1, 3] -[6] best_score', qRec.result, expectBestScore([1, 3], [6]));
  const qRecAvg = await step('query (recommend average_vector)', () => points.query({
    collectionName: COLLECTION, using: 'dense', limit: 3n,
    query: { variant: { case: 'recommend', value: { positive: [idInput(1)], negative: [idInput(6)] } } },
  }));
  checkRanking('Query recommend +[1] -[6] (default average_vector)', qRecAvg.result, expectAverageVector([1], [6]).slice(0, 3));

  const byPrice = [...POINTS].sort((a, b) => a.price - b.price);
  const orderedDesc = await step('query (order_by price desc)', () => points.query({
    collectionName: COLLECTION, limit: 3n, withPayload: PAYLOAD_ON,
    query: { variant: { case: 'orderBy', value: { key: 'price', direction: Direction.Desc } } },
  }));
  check(show(orderedDesc.result.map(idOf)) === show(byPrice.slice(-3).reverse().map((p) => p.id)),
    'Query order_by price desc limit 3 must be the 3 dearest points', orderedDesc.result.map((p) => [idOf(p), fromPayload(p.payload).price]));
  const orderedAsc = await step('query (order_by price asc, range filter)', () => points.query({
    collectionName: COLLECTION, limit: 10n, filter: { must: [range('price', { gte: 20, lt: 60 })] },
    query: { variant: { case: 'orderBy', value: { key: 'price' } } },
  }));
  const inRange = byPrice.filter((p) => p.price >= 20 && p.price < 60);
  check(show(orderedAsc.result.map(idOf)) === show(inRange.map((p) => p.id)),
    'Query order_by price asc, 20 <= price < 60 must list those points by price', orderedAsc.result.map(idOf));
  const orderValues = orderedAsc.result.map((p) => (p.orderValue ? Number(p.orderValue.variant.value) : null));
  check(show(orderValues) === show(inRange.map((p) => p.price)), 'order_by hits must carry order_value = price', orderValues);
  summary.order_by = orderedAsc.result.map(idOf);

  // ---- scroll ----------------------------------------------------------------------------------
  const page1 = await step('scroll (page 1)', () => points.scroll({ collectionName: COLLECTION, limit: 5 }));
  check(show(page1.result.map(idOf)) === show(ALL_IDS.slice(0, 5)), 'Scroll page 1 must be the first 5 ids', page1.result.map(idOf));
  check(page1.nextPageOffset && idOf(page1.nextPageOffset) === ALL_IDS[5], `Scroll page 1 next_page_offset must be ${ALL_IDS[5]}`,
    page1.nextPageOffset);
  check(page1.result.every((r) => fromPayload(r.payload).group && !r.vectors),
    'Scroll returns payloads and no vectors by default', page1.result[0]);
  const page2 = await step('scroll (page 2)', () => points.scroll({ collectionName: COLLECTION, limit: 5, offset: page1.nextPageOffset }));
  check(show(page2.result.map(idOf)) === show(ALL_IDS.slice(5, 10)), 'Scroll page 2 must be the next 5 ids', page2.result.map(idOf));
  const page3 = await step('scroll (page 3)', () => points.scroll({ collectionName: COLLECTION, limit: 5, offset: page2.nextPageOffset }));
  check(show(page3.result.map(idOf)) === show(ALL_IDS.slice(10)), 'Scroll page 3 must be the last ids', page3.result.map(idOf));
  check(page3.nextPageOffset === undefined, 'Scroll page 3 (exactly the last 5 points) must be the last page',
    page3.nextPageOffset);
  const scrollFood = await step('scroll (alias, filter topic=food)', () => points.scroll({
    collectionName: ALIAS, filter: { must: [matchKeyword('topic', 'food')] },
    withPayload: { selectorOptions: { case: 'include', value: { fields: ['topic'] } } },
  }));
  check(show(scrollFood.result.map(idOf)) === '[101,106]', 'Scroll topic=food must be [101, 106]', scrollFood.result.map(idOf));
  check(scrollFood.result.every((r) => show(fromPayload(r.payload)) === '{"topic":"food"}'),
    'with_payload include [topic] must return only that key', scrollFood.result.map((r) => fromPayload(r.payload)));
  const scrollOrdered = await step('scroll (order_by price asc)', () => points.scroll({
    collectionName: COLLECTION, limit: 3, orderBy: { key: 'price' },
  }));
  check(show(scrollOrdered.result.map(idOf)) === show(byPrice.slice(0, 3).map((p) => p.id)),
    'Scroll order_by price limit 3 must be the 3 cheapest points', scrollOrdered.result.map(idOf));

  // ---- groups and facets -----------------------------------------------------------------------
  const groups = await step('queryGroups (group_by group)', () => points.queryGroups({
    collectionName: COLLECTION, using: 'dense', query: nearest(denseInput(Q)), groupBy: 'group', limit: 2n, groupSize: 2n,
  }));
  const expectedGroups = expectGroups(expectNearestDense(Q), (id) => point(id).group, 2, 2);
  const gotGroups = groups.result?.groups ?? [];
  check(gotGroups.length === expectedGroups.length, `QueryGroups must return ${expectedGroups.length} groups`,
    gotGroups.map((g) => g.id));
  gotGroups.forEach((g, i) => {
    check(g.id?.kind?.case === 'stringValue' && g.id.kind.value === expectedGroups[i].id,
      `QueryGroups group ${i} must be "${expectedGroups[i].id}"`, g.id);
    checkRanking(`QueryGroups group "${expectedGroups[i].id}"`, g.hits, expectedGroups[i].hits);
  });
  summary.groups = gotGroups.map((g) => ({ id: g.id.kind.value, hits: g.hits.map(idOf) }));

  const facet = await step('facet (group)', () => points.facet({ collectionName: COLLECTION, key: 'group', exact: true }));
  const facetOf = (answer) => answer.hits.map((h) => [h.value?.variant?.value, Number(h.count)]);
  check(show(facetOf(facet)) === show([['b', 4], ['a', 3], ['c', 2]]), 'Facet(group) must be b:4, a:3, c:2', facetOf(facet));
  const facetFiltered = await step('facet (group, price >= 50, alias)', () => points.facet({
    collectionName: ALIAS, key: 'group', exact: true, filter: { must: [range('price', { gte: 50 })] },
  }));
  check(show(facetOf(facetFiltered)) === show([['b', 3], ['a', 1]]), 'Facet(group | price >= 50) must be b:3, a:1',
    facetOf(facetFiltered));

  // ---- batches and legacy groups --------------------------------------------------------------------
  const searchedBatch = await step('searchBatch', () => points.searchBatch({
    collectionName: COLLECTION,
    searchPoints: [
      { collectionName: COLLECTION, vectorName: 'dense', vector: Q, limit: 2n },
      { collectionName: COLLECTION, vectorName: 'dense', vector: QB, limit: 3n, filter: { must: [matchKeyword('group', 'b')] } },
    ],
  }));
  check(searchedBatch.result.length === 2, 'SearchBatch of 2 searches must answer 2 results', searchedBatch.result.length);
  checkRanking('SearchBatch[0] dense Q limit 2', searchedBatch.result[0].result, expectNearestDense(Q).slice(0, 2));
  checkRanking('SearchBatch[1] dense QB, group=b, limit 3', searchedBatch.result[1].result,
    expectNearestDense(QB, { filter: (p) => p.group === 'b' }).slice(0, 3));
  const queriedBatch = await step('queryBatch', () => points.queryBatch({
    collectionName: COLLECTION,
    queryPoints: [
      { collectionName: COLLECTION, using: 'sparse', query: nearest(sparseInput(SQ)), limit: 2n },
      { collectionName: COLLECTION, query: { variant: { case: 'orderBy', value: { key: 'price', direction: Direction.Desc } } },
        limit: 2n },
    ],
  }));
  check(queriedBatch.result.length === 2, 'QueryBatch of 2 queries must answer 2 results', queriedBatch.result.length);
  checkRanking('QueryBatch[0] sparse limit 2', queriedBatch.result[0].result, expectNearestSparse(SQ).slice(0, 2));
  check(show(queriedBatch.result[1].result.map(idOf)) === show(byPrice.slice(-2).reverse().map((p) => p.id)),
    'QueryBatch[1] order_by price desc limit 2', queriedBatch.result[1].result.map(idOf));

  const searchGroups = await step('searchGroups (legacy)', () => points.searchGroups({
    collectionName: COLLECTION, vectorName: 'dense', vector: Q, groupBy: 'group', limit: 3, groupSize: 1,
  }));
  const expectedSearchGroups = expectGroups(expectNearestDense(Q), (id) => point(id).group, 3, 1);
  check(show((searchGroups.result?.groups ?? []).map((g) => [g.id?.kind?.value, g.hits.map(idOf)]))
    === show(expectedSearchGroups.map((g) => [g.id, g.hits.map((h) => h.id)])),
    `SearchGroups must be ${show(expectedSearchGroups.map((g) => [g.id, g.hits.map((h) => h.id)]))}`,
    (searchGroups.result?.groups ?? []).map((g) => [g.id?.kind?.value, hits(g.hits)]));
  const recGroups = await step('recommendGroups (legacy)', () => points.recommendGroups({
    collectionName: ALIAS, using: 'dense', positive: [pid(1)], negative: [pid(6)], groupBy: 'group', limit: 2, groupSize: 2,
  }));
  const expectedRecGroups = expectGroups(expectAverageVector([1], [6]), (id) => point(id).group, 2, 2);
  const gotRecGroups = recGroups.result?.groups ?? [];
  check(show(gotRecGroups.map((g) => g.id?.kind?.value)) === show(expectedRecGroups.map((g) => g.id)),
    `RecommendGroups +[1] -[6] must be the groups ${show(expectedRecGroups.map((g) => g.id))}`,
    gotRecGroups.map((g) => [g.id?.kind?.value, hits(g.hits)]));
  gotRecGroups.forEach((g, i) => checkRanking(`RecommendGroups group "${expectedRecGroups[i].id}"`, g.hits, expectedRecGroups[i].hits));

  // ---- server-side inference in queries ---------------------------------------------------------
  const qMini = await step('query (MiniLM Document)', () => points.query({
    collectionName: COLLECTION, using: 'minilm', query: nearest(docInput('How do I bake cookies?', MINILM)), limit: 6n,
    withPayload: PAYLOAD_ON,
  }));
  const miniHits = qMini.result;
  check(miniHits.length === DOCS.length, 'MiniLM query must rank the 6 points that have a minilm vector', hits(miniHits));
  check(idOf(miniHits[0]) === 101 && miniHits[0].score > miniHits[1].score + 0.1,
    'best MiniLM hit for "How do I bake cookies?" must clearly be point 101', hits(miniHits));
  check(miniHits.every((p, i) => i === 0 || miniHits[i - 1].score >= p.score), 'scores must be descending', hits(miniHits));
  summary.minilm = hits(miniHits);
  const qBm25 = await step('query (bm25 Document)', () => points.query({
    collectionName: COLLECTION, using: 'bm25', query: nearest(docInput('chocolate cookies', BM25)), limit: 10n,
  }));
  check(show(qBm25.result.map(idOf)) === '[101]', 'bm25 query "chocolate cookies" must hit only point 101', hits(qBm25.result));
  const qBaking = await step('query (bm25 Document, filter topic=food)', () => points.query({
    collectionName: COLLECTION, using: 'bm25', query: nearest(docInput('baking', BM25)), limit: 10n,
    filter: { must: [matchKeyword('topic', 'food')] },
  }));
  check(show(qBaking.result.map(idOf).sort()) === '[101,106]', 'bm25 query "baking" must hit points 101 and 106',
    hits(qBaking.result));
  const hybrid = await step('query (hybrid Documents, RRF)', () => points.query({
    collectionName: ALIAS,
    prefetch: [
      { using: 'minilm', query: nearest(docInput('How do I bake cookies?', MINILM)), limit: 6n },
      { using: 'bm25', query: nearest(docInput('chocolate cookies', BM25)), limit: 6n },
    ],
    query: { variant: { case: 'fusion', value: Fusion.RRF } },
    limit: 3n,
  }));
  checkRanking('hybrid RRF of the MiniLM and bm25 rankings above', hybrid.result,
    expectRrf([miniHits.map(idOf), qBm25.result.map(idOf)]).slice(0, 3));
  check(Number(hybrid.usage?.inference?.models?.[MINILM]?.tokens ?? 0) > 0,
    `query answer must report ${MINILM} tokens in usage.inference`, hybrid.usage);

  // ---- payload writes and deletes ------------------------------------------------------------------
  const flagged = await step('setPayload (filter group=c)', () => points.setPayload({
    collectionName: COLLECTION, wait: true, payload: toPayload({ flag: true, price: 5 }),
    pointsSelector: { pointsSelectorOneOf: { case: 'filter', value: { must: [matchKeyword('group', 'c')] } } },
  }));
  check(flagged.result?.status === UpdateStatus.Completed, 'SetPayload with wait must be Completed', flagged.result);
  const cheapest = await step('query (order_by price asc, after setPayload)', () => points.query({
    collectionName: COLLECTION, limit: 3n, withPayload: PAYLOAD_ON,
    query: { variant: { case: 'orderBy', value: { key: 'price' } } },
  }));
  const repriced = POINTS.map((p) => ({ ...p, price: p.group === 'c' ? 5 : p.price }))
    .sort((a, b) => a.price - b.price || (String(a.id) < String(b.id) ? -1 : 1));
  check(same(cheapest.result.map(idOf).slice(0, 2).sort(), repriced.slice(0, 2).map((p) => p.id).sort())
    && idOf(cheapest.result[2]) === repriced[2].id,
    `order_by price after repricing group c to 5 must start with ${show(repriced.slice(0, 3).map((p) => p.id))}`,
    cheapest.result.map((p) => [idOf(p), fromPayload(p.payload).price]));
  check(cheapest.result.slice(0, 2).every((p) => fromPayload(p.payload).flag === true && fromPayload(p.payload).tags[0] === 'c'),
    'SetPayload must merge into the payload (flag added, tags kept)', cheapest.result.map((p) => fromPayload(p.payload)));
  const deleted = await step('delete points (ids 2, 3)', () => points.delete({
    collectionName: ALIAS, wait: true, points: { pointsSelectorOneOf: { case: 'points', value: { ids: [pid(2), pid(3)] } } },
  }));
  check(deleted.result?.status === UpdateStatus.Completed, 'Delete with wait must be Completed', deleted.result);
  const afterDelete = await step('search (after delete)', () => points.search({
    collectionName: COLLECTION, vectorName: 'dense', vector: Q, limit: 3n,
  }));
  checkRanking('Search after deleting 2 and 3', afterDelete.result, expectNearestDense(Q, { exclude: [2, 3] }).slice(0, 3));
  const deletedByFilter = await step('delete points (filter topic=food)', () => points.delete({
    collectionName: COLLECTION, wait: true,
    points: { pointsSelectorOneOf: { case: 'filter', value: { must: [matchKeyword('topic', 'food')] } } },
  }));
  check(deletedByFilter.result?.status === UpdateStatus.Completed, 'Delete by filter with wait must be Completed',
    deletedByFilter.result);
  const left = await step('count (after deletes)', () => points.count({ collectionName: COLLECTION, exact: true }));
  check(left.result?.count === BigInt(ALL_IDS.length - 4), `Count after deleting 4 points must be ${ALL_IDS.length - 4}`,
    left.result);

  // ---- aliases: rename, delete; collection: delete ---------------------------------------------
  const renamed = await step('updateAliases (rename)', () => collections.updateAliases({
    actions: [{ action: { case: 'renameAlias', value: { oldAliasName: ALIAS, newAliasName: ALIAS2 } } }],
  }));
  check(renamed.result === true, 'rename alias must answer result: true', renamed);
  const afterRename = await step('listCollectionAliases (after rename)', () => collections.listCollectionAliases({
    collectionName: COLLECTION,
  }));
  check(show(afterRename.aliases.map((a) => a.aliasName)) === show([ALIAS2]), `aliases must now be [${ALIAS2}]`, afterRename.aliases);
  const countRenamed = await step('count (renamed alias)', () => points.count({ collectionName: ALIAS2, exact: true }));
  check(countRenamed.result?.count === left.result.count, 'Count through the renamed alias', countRenamed.result);
  await expectError('count (old alias) -> NotFound', ConnectErrorCode.NotFound,
    () => points.count({ collectionName: ALIAS, exact: true }));
  const unaliased = await step('updateAliases (delete)', () => collections.updateAliases({
    actions: [{ action: { case: 'deleteAlias', value: { aliasName: ALIAS2 } } }],
  }));
  check(unaliased.result === true, 'delete alias must answer result: true', unaliased);
  const noAliases = await step('listAliases (after delete)', () => collections.listAliases({}));
  check(!noAliases.aliases.some((a) => a.collectionName === COLLECTION), 'no alias may point at the collection any more',
    noAliases.aliases);

  const dropped = await step('delete', () => collections.delete({ collectionName: COLLECTION }));
  check(dropped.result === true, 'Delete must answer result: true', dropped);
  const exists = await step('collectionExists (after delete)', () => collections.collectionExists({ collectionName: COLLECTION }));
  check(exists.result?.exists === false, 'the collection must be gone', exists.result);
  await expectError('get (deleted) -> NotFound', ConnectErrorCode.NotFound, () => collections.get({ collectionName: COLLECTION }));

  summary.ok = true;
  summary.steps = steps;
  console.log(JSON.stringify(summary, null, 2));
}

function describe(e) {
  const last = steps.length ? steps[steps.length - 1].step : null;
  const where = e.step ? ` in step "${e.step}"` : last ? ` after step "${last}"` : '';
  if (e instanceof Mismatch) return `MISMATCH${where}: ${e.message}`;
  if (e instanceof ConnectError) {
    return `ERROR${where}: gRPC ${ConnectErrorCode[e.code]}: ${e.rawMessage}`;
  }
  return `ERROR${where}: ${e.name}: ${e.message}${e.cause ? `\n  cause ${e.cause?.message ?? e.cause}` : ''}`;
}

try {
  await main();
} catch (e) {
  console.error(describe(e));
  console.error(`steps completed: ${steps.map((s) => s.step).join(', ') || '(none)'}`);
  process.exitCode = 1;
}
