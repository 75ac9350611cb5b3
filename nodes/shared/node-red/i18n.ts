// Every user-visible runtime string comes from the o365-config message catalog (locales/<lang>/o365-config.json).
// Inside Node-RED the runtime's RED._ translates (so `de` works); outside it (unit tests) the bundled en-US file does.
import fs from 'fs';
import path from 'path';

export type Params = Record<string, string | number | undefined>;
type Translator = (key: string, params?: Params) => string;

let runtimeTranslator: Translator | undefined;
let fallbackCatalog: Record<string, unknown> | undefined;

/** The config node installs Node-RED's translator for its own catalog at load. */
export function useTranslator(translate: Translator): void {
  runtimeTranslator = translate;
}

function lookup(catalog: Record<string, unknown>, key: string): string | undefined {
  let node: unknown = catalog;
  for (const part of key.split('.')) {
    if (!node || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'string' ? node : undefined;
}

function interpolate(template: string, params: Params = {}): string {
  return template.replace(/__([a-zA-Z0-9]+)__/g, (whole, name: string) => {
    const value = params[name];
    return value === undefined ? whole : String(value);
  });
}

function fallback(key: string, params?: Params): string {
  if (!fallbackCatalog) {
    const file = path.join(__dirname, '..', '..', 'o365-config', 'locales', 'en-US', 'o365-config.json');
    try {
      fallbackCatalog = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch {
      fallbackCatalog = {};
    }
  }
  const template = lookup(fallbackCatalog, `o365-config.${key}`);
  return template === undefined ? key : interpolate(template, params);
}

/** A message from the catalog, e.g. t('errors.aadsts54005') or t('status.events', {count: 3, time: '10:42'}). */
export function t(key: string, params?: Params): string {
  if (runtimeTranslator) {
    const text = runtimeTranslator(`o365-config.${key}`, params);
    if (text && !text.endsWith(key)) return text;
  }
  return fallback(key, params);
}
