// End-to-end flow of the official Qdrant JS client (@qdrant/js-client-rest) against a vecinfer
// REST server, with server-side inference (MiniLM dense + qdrant/bm25 sparse).
//
// Usage: node client_flow.mjs [http://127.0.0.1:6333]   (or VECINFER_REST_URL / QDRANT_URL)
// Exits 0 and prints a JSON summary on success; exits 1 with a message on any mismatch.
import { QdrantClient } from '@qdrant/js-client-rest';

const url = process.argv[2] || process.env.VECINFER_REST_URL || process.env.QDRANT_URL || 'http://127.0.0.1:6333';
const COLLECTION = `js_client_flow_${process.pid}`;
const MINILM = 'sentence-transformers/all-minilm-l6-v2';
const BM25 = 'qdrant/bm25';

const DOCS = [
  { id: 1, text: 'Recipe for baking chocolate chip cookies', topic: 'food' },
  { id: 2, text: 'The stock market fell sharply on Monday.', topic: 'finance' },
  { id: 3, text: 'How to change a flat tyre on a bicycle', topic: 'bikes' },
  { id: 4, text: 'A history of the Roman empire', topic: 'history' },
  { id: 5, text: 'Best hiking trails in Norway', topic: 'travel' },
  { id: 6, text: 'Bread baking for beginners: sourdough at home', topic: 'food' },
];

class Mismatch extends Error {}

function check(cond, what, got) {
  if (!cond) {
    throw new Mismatch(`${what}; got: ${JSON.stringify(got)}`);
  }
}

const sameIds = (a, b) => JSON.stringify([...a].sort((x, y) => x - y)) === JSON.stringify([...b].sort((x, y) => x - y));

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

async function main() {
  const client = new QdrantClient({ url, checkCompatibility: false, timeout: 120_000 });
  const summary = { url, collection: COLLECTION };

  const version = await step('versionInfo', () => client.versionInfo());
  check(typeof version?.version === 'string' && /^1\./.test(version.version), 'GET / must report a 1.x version', version);
  summary.server_version = version.version;

  // Leftovers from an interrupted run would make createCollection fail with 409.
  if ((await step('collectionExists', () => client.collectionExists(COLLECTION))).exists) {
    await step('deleteCollection (leftover)', () => client.deleteCollection(COLLECTION));
  }

  const created = await step('createCollection', () => client.createCollection(COLLECTION, {
    vectors: { dense: { size: 384, distance: 'Cosine' } },
    sparse_vectors: { bm25: { modifier: 'idf' } },
  }));
  check(created === true, 'createCollection must return true', created);

  const info = await step('getCollection', () => client.getCollection(COLLECTION));
  check(info?.config?.params?.vectors?.dense?.size === 384 && info.config.params.vectors.dense.distance === 'Cosine',
    'collection info must show dense: 384/Cosine', info?.config?.params?.vectors);
  check(info.config.params.sparse_vectors?.bm25?.modifier === 'idf', 'collection info must show bm25 with modifier idf',
    info.config.params.sparse_vectors);

  const upserted = await step('upsert', () => client.upsert(COLLECTION, {
    wait: true,
    points: DOCS.map((d) => ({
      id: d.id,
      vector: {
        dense: { text: d.text, model: MINILM },
        bm25: { text: d.text, model: BM25 },
      },
      payload: { text: d.text, topic: d.topic, n: d.id },
    })),
  }));
  check(upserted?.status === 'completed', 'upsert with wait=true must be "completed"', upserted);

  const total = await step('count (all)', () => client.count(COLLECTION, { exact: true }));
  check(total?.count === DOCS.length, `count must be ${DOCS.length}`, total);

  // Dense semantic query by a Document: the cookie recipe must win.
  const dense = await step('query (dense Document)', () => client.query(COLLECTION, {
    query: { text: 'How do I bake cookies?', model: MINILM },
    using: 'dense',
    limit: 3,
    with_payload: true,
  }));
  const densePoints = dense?.points;
  check(Array.isArray(densePoints) && densePoints.length === 3, 'dense query must return 3 points', dense);
  check(densePoints[0].id === 1, 'best dense hit for "How do I bake cookies?" must be point 1 (cookie recipe)', densePoints);
  check(densePoints[0].payload?.text === DOCS[0].text, 'best dense hit must carry its payload', densePoints[0]);
  check(typeof densePoints[0].version === 'number', 'ScoredPoint.version must be a number', densePoints[0]);
  for (let i = 1; i < densePoints.length; i++) {
    check(densePoints[i - 1].score >= densePoints[i].score, 'dense scores must be in descending order', densePoints);
  }
  check(densePoints[0].score > densePoints[1].score + 0.1, 'cookie recipe must clearly beat the runner-up', densePoints);
  summary.dense_top = densePoints.map((p) => ({ id: p.id, score: Number(p.score.toFixed(4)) }));

  // Sparse (bm25) query by a Document, with a payload filter.
  const sparse = await step('query (bm25 Document, filter)', () => client.query(COLLECTION, {
    query: { text: 'baking', model: BM25 },
    using: 'bm25',
    filter: { must: [{ key: 'topic', match: { value: 'food' } }] },
    limit: 10,
  }));
  check(sameIds(sparse?.points?.map((p) => p.id) ?? [], [1, 6]), 'bm25 query "baking" on topic=food must hit points 1 and 6',
    sparse);
  summary.bm25_hits = sparse.points.map((p) => p.id);

  // Retrieve with vectors: dense is 384 floats (normalized, Cosine), bm25 sparse has sorted indices.
  const records = await step('retrieve', () => client.retrieve(COLLECTION, {
    ids: [1, 2, 999],
    with_payload: true,
    with_vector: true,
  }));
  check(Array.isArray(records) && sameIds(records.map((r) => r.id), [1, 2]), 'retrieve [1,2,999] must return points 1 and 2',
    records?.map?.((r) => r.id) ?? records);
  for (const r of records) {
    const doc = DOCS.find((d) => d.id === r.id);
    check(r.payload?.text === doc.text && r.payload?.topic === doc.topic && r.payload?.n === doc.id,
      `retrieved payload of point ${r.id} must match`, r.payload);
    const d = r.vector?.dense;
    check(Array.isArray(d) && d.length === 384, `point ${r.id}: dense vector must have 384 floats`, d?.length ?? r.vector);
    const norm = Math.sqrt(d.reduce((s, x) => s + x * x, 0));
    check(Math.abs(norm - 1) < 1e-3, `point ${r.id}: Cosine vector must come back normalized`, norm);
    const s = r.vector?.bm25;
    check(s && Array.isArray(s.indices) && Array.isArray(s.values), `point ${r.id}: bm25 must be {indices, values}`, s);
    check(s.indices.length > 0 && s.indices.length === s.values.length,
      `point ${r.id}: bm25 indices/values must be non-empty and of equal length`, s);
    check(s.indices.every((x) => Number.isInteger(x) && x >= 0), `point ${r.id}: bm25 indices must be unsigned ints`, s.indices);
    check(s.indices.every((x, i) => i === 0 || s.indices[i - 1] < x), `point ${r.id}: bm25 indices must be strictly ascending`,
      s.indices);
    check(s.values.every((v) => typeof v === 'number' && v > 0), `point ${r.id}: bm25 values must be positive numbers`, s.values);
  }
  summary.bm25_terms = Object.fromEntries(records.map((r) => [r.id, r.vector.bm25.indices.length]));

  // Scroll: two pages of 4 + 2, ordered by id, payload on by default, no vectors.
  const page1 = await step('scroll (page 1)', () => client.scroll(COLLECTION, { limit: 4 }));
  check(JSON.stringify(page1?.points?.map((p) => p.id)) === '[1,2,3,4]', 'scroll page 1 must be ids [1,2,3,4]', page1);
  check(page1.next_page_offset === 5, 'scroll page 1 next_page_offset must be 5', page1.next_page_offset);
  check(page1.points.every((p) => p.payload?.text && p.vector == null), 'scroll must return payloads and no vectors', page1.points[0]);
  const page2 = await step('scroll (page 2)', () => client.scroll(COLLECTION, { limit: 4, offset: page1.next_page_offset }));
  check(JSON.stringify(page2?.points?.map((p) => p.id)) === '[5,6]', 'scroll page 2 must be ids [5,6]', page2);
  check(page2.next_page_offset == null, 'scroll page 2 must be the last one', page2.next_page_offset);
  const scrolledFood = await step('scroll (filter)', () => client.scroll(COLLECTION, {
    filter: { must: [{ key: 'topic', match: { value: 'food' } }] },
    with_payload: ['topic'],
  }));
  check(JSON.stringify(scrolledFood?.points?.map((p) => p.id)) === '[1,6]', 'filtered scroll must be ids [1,6]', scrolledFood);
  check(scrolledFood.points.every((p) => JSON.stringify(p.payload) === '{"topic":"food"}'),
    'with_payload ["topic"] must return only that key', scrolledFood.points);

  // Count with filters.
  const food = await step('count (topic=food)', () => client.count(COLLECTION, {
    filter: { must: [{ key: 'topic', match: { value: 'food' } }] },
    exact: true,
  }));
  check(food?.count === 2, 'count(topic=food) must be 2', food);
  const big = await step('count (n >= 3)', () => client.count(COLLECTION, {
    filter: { must: [{ key: 'n', range: { gte: 3 } }] },
    exact: true,
  }));
  check(big?.count === 4, 'count(n >= 3) must be 4', big);

  // Delete by ids, then by filter.
  const delIds = await step('delete (ids)', () => client.delete(COLLECTION, { wait: true, points: [2, 3] }));
  check(delIds?.status === 'completed', 'delete with wait=true must be "completed"', delIds);
  const afterIds = await step('count (after delete ids)', () => client.count(COLLECTION, { exact: true }));
  check(afterIds?.count === 4, 'count after deleting 2 points must be 4', afterIds);
  const delFilter = await step('delete (filter)', () => client.delete(COLLECTION, {
    wait: true,
    filter: { must: [{ key: 'topic', match: { value: 'food' } }] },
  }));
  check(delFilter?.status === 'completed', 'delete by filter with wait=true must be "completed"', delFilter);
  const afterFilter = await step('count (after delete filter)', () => client.count(COLLECTION, { exact: true }));
  check(afterFilter?.count === 2, 'count after deleting topic=food must be 2', afterFilter);
  const foodLeft = await step('count (topic=food, after delete)', () => client.count(COLLECTION, {
    filter: { must: [{ key: 'topic', match: { value: 'food' } }] },
  }));
  check(foodLeft?.count === 0, 'count(topic=food) after delete must be 0', foodLeft);
  const left = await step('retrieve (after delete)', () => client.retrieve(COLLECTION, { ids: [1, 2, 3, 4, 5, 6] }));
  check(sameIds(left.map((r) => r.id), [4, 5]), 'points 4 and 5 must be left', left);
  const denyDeleted = await step('query (after delete)', () => client.query(COLLECTION, {
    query: { text: 'How do I bake cookies?', model: MINILM },
    using: 'dense',
    limit: 10,
  }));
  check(sameIds(denyDeleted.points.map((p) => p.id), [4, 5]), 'query after delete must only see points 4 and 5', denyDeleted);

  // Drop the collection.
  const dropped = await step('deleteCollection', () => client.deleteCollection(COLLECTION));
  check(dropped === true, 'deleteCollection must return true', dropped);
  const exists = await step('collectionExists (after delete)', () => client.collectionExists(COLLECTION));
  check(exists?.exists === false, 'collection must not exist after deleteCollection', exists);
  const droppedAgain = await step('deleteCollection (again)', () => client.deleteCollection(COLLECTION));
  check(droppedAgain === false, 'deleting a missing collection must return false', droppedAgain);

  summary.ok = true;
  summary.steps = steps;
  console.log(JSON.stringify(summary, null, 2));
}

function describe(e) {
  const last = steps.length ? steps[steps.length - 1].step : null;
  const where = e.step ? ` in step "${e.step}"` : last ? ` after step "${last}"` : '';
  if (e instanceof Mismatch) return `MISMATCH${where}: ${e.message}`;
  // openapi-typescript-fetch's ApiError carries the HTTP status and the parsed body.
  const extra = [];
  if (e.status !== undefined) extra.push(`HTTP ${e.status}${e.statusText ? ` ${e.statusText}` : ''}`);
  if (e.url) extra.push(`url ${e.url}`);
  if (e.data !== undefined) extra.push(`body ${JSON.stringify(e.data)}`);
  if (e.cause) extra.push(`cause ${e.cause?.message ?? e.cause}`);
  return `ERROR${where}: ${e.name}: ${e.message}${extra.length ? `\n  ${extra.join('\n  ')}` : ''}`;
}

try {
  await main();
} catch (e) {
  console.error(describe(e));
  console.error(`steps completed: ${steps.map((s) => s.step).join(', ') || '(none)'}`);
  process.exitCode = 1;
}
