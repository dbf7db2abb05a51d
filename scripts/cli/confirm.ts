/**
 * Residents' confirmations (群众评价, docs/protocol.md §8): a unit asks the resident it served to
 * confirm a record; inspectors read "did not happen" findings and a unit's evaluation.
 */
import QRCode from "qrcode";
import { type Command, command, group, required } from "./command.ts";
import { hash32, tokenOf, unitIdOf } from "./context.ts";
import { gatewayJson } from "./gateway.ts";
import { chinaDate, parseTime } from "./time.ts";

const request = command(
  {
    name: "confirm request",
    summary: "unit: ask the resident served to confirm a record; with --contact the delivery hook sends the link",
    usage: "RECORD_ID [--contact PHONE] [--token TOKEN]",
    flags: {
      contact: { value: "PHONE", help: "the resident's phone or app account: passed to the hook, never kept" },
      token: { value: "TOKEN", help: "the unit's token (else DUTYPROOF_TOKEN)" },
    },
    maxPositionals: 1,
    notes: [
      "Without --contact the link and code are printed here with a QR code: shown only on the cadre's",
      "own device, such a link proves little (docs/security.md); a county sends links through the hook.",
    ],
    example: "dutyproof confirm request 0x5c1e…9a --contact 13800000000 --token dp_…",
  },
  async ({ values, positionals }) => {
    const recordId = hash32("confirm request: the record id", positionals[0]);
    const answer = await gatewayJson<{ expiresAt: number; delivery: string; link?: string; code?: string }>(
      "/v1/confirmations",
      {
        method: "POST",
        token: tokenOf(values, "confirm request"),
        body: { recordId, ...(values.contact ? { contact: values.contact } : {}) },
      },
    );
    console.log(`confirmation link for ${recordId}, open until ${chinaDate(answer.expiresAt)}`);
    if (answer.link === undefined) {
      console.log("  sent to the resident through the delivery hook");
      return;
    }
    console.log(`  link: ${answer.link}`);
    console.log(`  code: ${answer.code}`);
    // Drawn here, from the npm package: the link never goes to a QR service.
    console.log(await QRCode.toString(answer.link, { type: "utf8", errorCorrectionLevel: "M" }));
  },
);

const findings = command(
  {
    name: "confirm findings",
    summary: 'inspector: residents\' "did not happen" answers about the duty types the department owns',
    usage: "[--unit NAME] [--token TOKEN]",
    flags: {
      unit: { value: "NAME", help: "only this unit" },
      token: { value: "TOKEN", help: "an inspector's, the unit's or an auditor's token (else DUTYPROOF_TOKEN)" },
    },
    example: "dutyproof confirm findings --unit qingshui-1 --token dp_…",
  },
  async ({ values }) => {
    const query = values.unit ? `?unitId=${unitIdOf(values.unit)}` : "";
    const body = await gatewayJson(`/v1/confirmations/findings${query}`, {
      token: tokenOf(values, "confirm findings"),
    });
    console.log(JSON.stringify(body, null, 2));
  },
);

const evaluation = command(
  {
    name: "confirm evaluation",
    summary: "a unit's evaluation: confirmation rate, satisfaction, did-not-happen count, follow-up sample, score",
    usage: "--unit NAME [--from DATE] [--to DATE] [--sample N] [--token TOKEN]",
    flags: {
      unit: { value: "NAME", help: "the unit" },
      from: { value: "DATE", help: "period start (YYYY-MM-DD [HH:MM], China time)" },
      to: { value: "DATE", help: "period end, exclusive" },
      sample: { value: "N", help: "follow-up visits (回访) to draw (default 10)" },
      token: { value: "TOKEN", help: "an inspector's, the unit's or an auditor's token (else DUTYPROOF_TOKEN)" },
    },
    example: "dutyproof confirm evaluation --unit qingshui-1 --from 2026-01-01 --to 2027-01-01 --token dp_…",
  },
  async ({ values }) => {
    const query = new URLSearchParams();
    if (values.from) query.set("from", String(parseTime("from", values.from)));
    if (values.to) query.set("to", String(parseTime("to", values.to)));
    if (values.sample) query.set("sample", values.sample);
    const unitId = unitIdOf(required(values, "unit"));
    const body = await gatewayJson(`/v1/units/${unitId}/evaluation?${query}`, {
      token: tokenOf(values, "confirm evaluation"),
    });
    console.log(JSON.stringify(body, null, 2));
  },
);

export const confirmGroup: Command = group("confirm", "residents confirm and rate services (群众评价)", [
  request,
  findings,
  evaluation,
]);
