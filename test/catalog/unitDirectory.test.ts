/**
 * The operator's unit directory (DATA_DIR/units.json) and GET /v1/unit-names: real files on disk
 * and a real HTTP server on loopback.
 */
import { expect } from "chai";
import { type Server, createServer } from "node:http";
import { rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { id } from "ethers";
import { UnitDirectory } from "../../server/catalog/UnitDirectory.ts";
import { checkedUnitNames, unitIdOf } from "../../server/core/unitDirectory.ts";
import { systemClock } from "../../server/clock.ts";
import { dispatcher } from "../../server/http/dispatch.ts";
import { unitNamesRoute } from "../../server/http/routes.ts";
import { testPort } from "../helpers/ports.ts";
import { tempDir } from "../helpers/tempDir.ts";

describe("unit directory", () => {
  const dir = tempDir("unit-directory");
  const path = join(dir.path, "units.json");
  const problems: string[] = [];
  const directory = new UnitDirectory(path, (message) => problems.push(message));
  let server: Server;
  let edits = 0;
  /** Writes the file as an operator's edit would, each with a later modification time. */
  const write = (content: string) => {
    writeFileSync(path, content);
    const at = 1_800_000_000 + ++edits;
    utimesSync(path, at, at);
  };
  let url: string;

  before(async () => {
    // The route as the gateway's table declares it, on the gateway's dispatcher.
    server = createServer(dispatcher([unitNamesRoute(() => directory.list())], { clock: systemClock }));
    const port = testPort("consoleState");
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${port}`;
  });

  after(async () => {
    await new Promise((resolve) => server.close(resolve));
    dir.remove();
  });

  it("derives unit ids as the CLI and the chain registration do", () => {
    expect(unitIdOf("qingshui-1")).to.equal(id("unit:qingshui-1"));
    expect(unitIdOf(` ${id("unit:x")} `)).to.equal(id("unit:x"));
  });

  it("serves no units without a file, then the file's units with their ids, read again when it changes", async () => {
    rmSync(path, { force: true });
    expect(await (await fetch(`${url}/v1/unit-names`)).json()).to.deep.equal({ units: [] });
    write(JSON.stringify({ units: [{ name: "qingshui-1" }] }));
    expect(await (await fetch(`${url}/v1/unit-names`)).json()).to.deep.equal({
      units: [{ unitId: id("unit:qingshui-1"), name: "qingshui-1" }],
    });
    write(
      JSON.stringify({ units: [{ name: "qingshui", title: { "zh-CN": "青石镇人民政府", en: "Qingshi Township" } }] }),
    );
    const response = await fetch(`${url}/v1/unit-names/`);
    expect(response.headers.get("content-type")).to.include("application/json");
    expect(((await response.json()) as { units: Array<{ name: string }> }).units.map((u) => u.name)).to.deep.equal([
      "qingshui",
    ]);
    expect((await fetch(`${url}/v1/unit-names`, { method: "POST" })).status).to.equal(404);
  });

  it("keeps the last good directory when the file is broken, and says why", async () => {
    write(JSON.stringify({ units: [{ name: "qingshui-2" }] }));
    expect(directory.list().map((u) => u.name)).to.deep.equal(["qingshui-2"]);
    write(JSON.stringify({ units: [{ name: id("unit:qingshui-2") }] }));
    expect(directory.list().map((u) => u.name)).to.deep.equal(["qingshui-2"]);
    expect(problems.at(-1)).to.include("units.0.name").and.include("not an id");
    write("{ not json");
    expect(directory.list().map((u) => u.name)).to.deep.equal(["qingshui-2"]);
    expect(problems.at(-1)).to.include("not readable JSON");
  });

  it("keeps, of a gateway's answer, only the names that hash to their ids", () => {
    const names = checkedUnitNames({
      units: [
        { unitId: id("unit:qingshui-1"), name: "qingshui-1" },
        { unitId: id("unit:qingshui-2"), name: "qingshui", title: { "zh-CN": "青石镇", en: "Qingshi" } },
      ],
    });
    expect([...names.keys()]).to.deep.equal([id("unit:qingshui-1")]);
    expect(checkedUnitNames({ units: "not a list" }).size).to.equal(0);
  });
});
