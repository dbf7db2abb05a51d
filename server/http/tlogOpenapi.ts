/** OpenAPI paths of the log in the C2SP layout (server/http/tlogRoutes.ts; docs/protocol.md). */

const octets = (description: string) => ({ description, content: { "application/octet-stream": {} } });
const indexParameter = {
  name: "N",
  in: "path",
  required: true,
  description: "tile index in three-digit groups, all but the last prefixed with x (1234067: x001/x234/067)",
  schema: { type: "string" },
};

export function tlogPaths(problem: object) {
  return {
    "/tlog/checkpoint": {
      get: {
        summary:
          "The latest signed checkpoint (c2sp.org/tlog-checkpoint) with the witnesses' cosignatures; signed once anchored on chain",
        responses: {
          200: { description: "a signed note", content: { "text/plain; charset=utf-8": {} } },
          404: problem,
        },
      },
    },
    "/tlog/tile/{L}/{N}": {
      get: {
        summary:
          "A tile of hashes (c2sp.org/tlog-tiles): 256 × 32 bytes at level L, or W of them with the suffix .p/<W>; up to the signed size only",
        parameters: [
          { name: "L", in: "path", required: true, schema: { type: "integer", minimum: 0, maximum: 63 } },
          indexParameter,
        ],
        responses: { 200: octets("the tile's hashes"), 404: problem },
      },
    },
    "/tlog/tile/entries/{N}": {
      get: {
        summary:
          "An entry bundle: 256 log entries (DPL1 records, DPD1 demands), each a big-endian uint16 length and its bytes; .p/<W> for W of them",
        parameters: [indexParameter],
        responses: { 200: octets("the entry bundle"), 404: problem },
      },
    },
  };
}
