// pg-copy is npm:pg@8.23.1 installed a second time (package.json): the types are pg's.
declare module "pg-copy" {
    import pg from "pg";
    export default pg;
}
