/**
 * The stage kinds the pipeline runs, by name.
 * @module
 */
import type { StageRegistry } from "../pipeline/stage.ts";
import { datasetStage } from "./dataset.ts";
import { reportStage } from "./report.ts";
import { spectralStage } from "./spectral.ts";
import { tabulateStage } from "./tabulate.ts";
import { trainStage } from "./train.ts";

/** Every stage kind, keyed by kind name. */
export const stageKinds: StageRegistry = {
  dataset: datasetStage,
  train: trainStage,
  spectral: spectralStage,
  tabulate: tabulateStage,
  report: reportStage,
};
