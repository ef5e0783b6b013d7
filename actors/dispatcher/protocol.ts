/** The Dispatcher's requests and replies: the public API, defined once in schemas/dispatcher-api.ts. */
export {
  JobIdRequest,
  JobResultRequest,
  SavepointRequest,
  DisposeSavepointRequest,
  RescaleRequest,
  SubmitApplicationRequest,
  type RescaleReply,
  type JobOverview,
  type JobTasksOverview,
  type JobResultReply,
  type ClusterInfo,
} from "../../schemas/dispatcher-api.js";
