// kscan compiles its schemas with validateSchema: false (checking them against the meta-schema at
// every start doubled the compile time): this checks them against draft-07 once, here.
import { readdirSync, readFileSync } from 'node:fs';
import { expect } from 'chai';
import { Ajv } from 'ajv';

const SCHEMAS = new URL('../../../schemas/', import.meta.url);

describe('schemas/', () => {
  for (const file of readdirSync(SCHEMAS).filter((name) => name.endsWith('.schema.json'))) {
    it(`${file} is a valid JSON Schema (draft-07)`, () => {
      const ajv = new Ajv({ strict: false });
      const valid = ajv.validateSchema(JSON.parse(readFileSync(new URL(file, SCHEMAS), 'utf8')) as object);
      expect(ajv.errors ?? [], ajv.errorsText()).to.deep.equal([]);
      expect(valid).to.equal(true);
    });
  }
});
