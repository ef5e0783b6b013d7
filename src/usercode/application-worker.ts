/**
 * The thread an application's main runs in (application mode): imports the job's bundle, calls
 * main with the request's arguments and posts back the JobGraph (plain data) and the invokables
 * the bundle declares, or the failure. See {@link ApplicationRunner}.
 */
import { parentPort, workerData } from "node:worker_threads";
import { pathToFileURL } from "node:url";
import { EddyError, ErrorCode } from "../core/errors.js";
import { bundleInvokablesOf, foreignCode, messageOf, runJobMain, toJobGraphSpec, type JobModule } from "./job-main.js";
import type { ApplicationWorkerData, ApplicationWorkerReply } from "./application-runner.js";

const data = workerData as ApplicationWorkerData;
const label = `the application's bundle ${data.bundleId.slice(0, 12)}`;

async function build(): Promise<ApplicationWorkerReply> {
  let mod: JobModule;
  try {
    mod = (await import(pathToFileURL(data.path).href)) as JobModule;
  } catch (err) {
    return fail(ErrorCode.UserCodeFailed, `${label} does not load: ${messageOf(err)}`);
  }
  let result: unknown;
  try {
    result = await runJobMain(mod, data.args, data.parallelism === undefined ? {} : { parallelism: data.parallelism }, label);
  } catch (err) {
    const code = err instanceof EddyError ? err.code : foreignCode(err);
    // A ValidationError of the job's own (a missing argument) keeps its code, as in session mode.
    if (code && (err as { name?: string }).name === "ValidationError") return fail(code, messageOf(err));
    return fail(ErrorCode.UserCodeFailed, `the main of ${label} failed${code ? ` (${code})` : ""}: ${messageOf(err)}`);
  }
  try {
    const spec = toJobGraphSpec(result, label);
    const invokables = bundleInvokablesOf(mod, label).map((f) => ({ name: f.name, kind: f.kind }));
    return { ok: true, spec, invokables };
  } catch (err) {
    return fail(err instanceof EddyError ? err.code : ErrorCode.InvalidJobGraph, messageOf(err));
  }
}

function fail(code: ErrorCode, message: string): ApplicationWorkerReply {
  return { ok: false, error: { code, message } };
}

build().then(
  (reply) => parentPort!.postMessage(reply),
  (err: unknown) => parentPort!.postMessage(fail(ErrorCode.UserCodeFailed, `${label}: ${messageOf(err)}`)),
);
