// Runs an ONNX model through onnxruntime-node (the same ORT 1.30 native library the C# side binds) so the Python
// tests can compare the exported graph with PyTorch numerically. Usage: node ort_run.js model.onnx inputs.json out.json
// inputs.json: {"name": {"type": "float32"|"int64", "dims": [...], "data": [...]}, ...}
const fs = require('fs');
const path = require('path');
const ortPath = process.env.ORT_NODE_MODULE ||
  path.join(__dirname, '..', '..', 'node_modules', 'onnxruntime-node');
const ort = require(ortPath);
(async () => {
  const [model, inputsPath, outPath] = process.argv.slice(2);
  const spec = JSON.parse(fs.readFileSync(inputsPath, 'utf8'));
  const feeds = {};
  for (const [name, v] of Object.entries(spec)) {
    const data = v.type === 'int64' ? BigInt64Array.from(v.data.map(BigInt)) : Float32Array.from(v.data);
    feeds[name] = new ort.Tensor(v.type, data, v.dims);
  }
  const session = await ort.InferenceSession.create(model);
  const res = await session.run(feeds);
  const out = {};
  for (const [name, t] of Object.entries(res)) out[name] = { dims: t.dims, data: Array.from(t.data) };
  fs.writeFileSync(outPath, JSON.stringify(out));
})().catch(e => { console.error(e && e.stack || e); process.exit(1); });
