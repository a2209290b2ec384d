// Parse Dart files with tree-sitter's Dart grammar (WASM, no Dart SDK needed); print each syntax error (an ERROR or
// MISSING node) as FILE:LINE:COLUMN and exit 1 when there is any. Run by tests/test_flutter.py.
const fs = require('fs');
const { Parser, Language } = require('web-tree-sitter');

(async () => {
  await Parser.init();
  const dart = await Language.load(require.resolve('tree-sitter-wasms/out/tree-sitter-dart.wasm'));
  const parser = new Parser();
  parser.setLanguage(dart);
  let failed = false;
  for (const file of process.argv.slice(2)) {
    const tree = parser.parse(fs.readFileSync(file, 'utf8'));
    const stack = [tree.rootNode];
    while (stack.length) {
      const node = stack.pop();
      if (node.type === 'ERROR' || node.isMissing) {
        failed = true;
        console.log(`${file}:${node.startPosition.row + 1}:${node.startPosition.column + 1}: ` +
                    `${node.isMissing ? 'missing ' + node.type : 'syntax error'}`);
      }
      for (let i = 0; i < node.childCount; i++) stack.push(node.child(i));
    }
  }
  process.exit(failed ? 1 : 0);
})();
