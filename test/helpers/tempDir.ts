/** Tests make scratch directories with the scripts' helper (scripts may not import tests). */
export { tempDir } from "../../scripts/tempDir.ts";
