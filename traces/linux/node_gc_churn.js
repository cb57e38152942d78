// A small GC-heavy Node.js workload for traces/linux/node_gc_churn.pb: builds and drops
// short-lived object graphs so V8's young generation collects repeatedly.
let keep = [];
for (let i = 0; i < 20000; i++) {
  keep.push({id: i, name: 'n' + i, data: new Array(16).fill(i)});
  if (keep.length > 1000) keep = [];
}
console.log('done', keep.length);
