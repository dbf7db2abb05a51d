/**
 * zod compiles object parsers with `new Function` unless told not to; the console's
 * Content-Security-Policy has no 'unsafe-eval', so parsing runs without that (imported first).
 */
import { z } from "zod";

z.config({ jitless: true });
