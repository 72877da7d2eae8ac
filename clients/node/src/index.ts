// @clinres/client: types, errors and the signature table (drivers: ./pg.js and ./prisma.js).
export * from "./api.js";
export * from "./errors.js";
export { call, callSql, type Executor } from "./call.js";
export { signatures, type FnKey, type SqlSignature } from "./signatures.js";
export type { ArgsOf, ResultOf, TsOf } from "./sqltypes.js";
