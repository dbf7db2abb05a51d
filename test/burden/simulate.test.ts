/**
 * The county simulation's quick scenario inside npm test: a real gateway, chain and LevelDB,
 * a seeded county year, and the targets checked on what the gateway decided.
 */
import { expect } from "chai";
import { simulate } from "../../scripts/simulate.ts";
import { testPort } from "../helpers/ports.ts";

describe("county simulation (quick scenario)", function () {
  this.timeout(300_000);

  it("meets the targets: >= 90% without new paperwork, every repeat absorbed, none over quota, >= 70% of data items from the ledger, overlapping visits merged, one meeting a day at most, replay clean", async () => {
    const result = await simulate({
      seed: 7,
      quick: true,
      year: 2025,
      chainPort: testPort("burden"),
      replay: true,
      log: () => {},
    });
    expect(result.demands).to.be.greaterThan(300);
    expect(result.withoutNewPaperworkShare).to.be.at.least(0.9);
    expect(result.duplicatesSubmitted).to.be.greaterThan(0);
    expect(result.duplicatesAbsorbedShare).to.equal(1);
    expect(result.offListRefused).to.be.at.least(result.offListSubmitted).and.greaterThan(0);
    expect(result.overQuotaWithoutEmergency).to.equal(0);
    expect(result.hoursSaved).to.be.greaterThan(0);
    // Every other kind through the gate (issue 15).
    expect(result.requestsByKind).to.include.keys(
      "evidence",
      "meeting",
      "data",
      "inspection",
      "evaluation",
      "secondment",
    );
    expect(result.dataItemsAnsweredFromLedgerShare).to.be.at.least(0.7);
    expect(result.evaluationsOverCapWithoutEmergency).to.equal(0);
    expect(result.secondmentsOverLimitWithoutApproval).to.equal(0);
    expect(result.jointInspections).to.be.greaterThan(0);
    expect(result.overlappingVisitsNotMerged).to.equal(0);
    expect(result.meetingsMerged).to.be.greaterThan(0);
    expect(result.meetingsPerUnitDayMax).to.be.at.most(1);
    expect(result.nonLeadEvaluationsRefused).to.be.greaterThan(0);
    expect(result.conflictsFlagged).to.be.greaterThan(0);
    expect(result.replayClean).to.equal(true);
    expect(result.tips).to.equal(2);
    expect(result.targetsMet).to.equal(true);
    // Residents (群众评价): colluding units confirm everything, honest residents flag some services.
    expect(result.confirmationsAnswered).to.be.greaterThan(50);
    expect(result.residentConfirmationRate).to.be.within(0.5, 1);
    expect(result.meanSatisfaction).to.be.within(3, 5);
    expect(result.didNotHappenFlagged).to.be.greaterThan(0);
    expect(result.colludingUnits).to.be.greaterThan(0);
  });
});
