import { createRequire } from 'node:module';
import { Language, Parser } from 'web-tree-sitter';

const require = createRequire(import.meta.url);

// One load per process: the runtime and grammar are ~500 KB of wasm, and every policy can share them.
let python: Promise<Language> | undefined;

export function loadPython(): Promise<Language> {
  python ??= (async () => {
    await Parser.init();
    return Language.load(require.resolve('tree-sitter-python/tree-sitter-python.wasm'));
  })().catch((err: unknown) => {
    // A failed load (e.g. a missing file) must not poison later attempts.
    python = undefined;
    throw err;
  });
  return python;
}

export async function createPythonParser(): Promise<Parser> {
  const language = await loadPython();
  return new Parser().setLanguage(language);
}
