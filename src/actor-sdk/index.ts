/**
 * `eddy/actors`: stateful actors in a job (Flink StateFun's model): actor types with typed state and
 * messages, addressed by type and id, exchanging messages exactly once; remote types served by any
 * NATS client. See docs/actors.md.
 */
export { defineActor, remoteActor, type ActorDefinition } from "./define-actor.js";
export { ActorApplicationBuilder, ActorApplication, type IngressRouter } from "./actor-application.js";
export { addressKey } from "../runtime/actors/types.js";
export type { ActorContext, Address, Routed, RemoteSettings, LocalActorType, RemoteActorType, ActorType } from "../runtime/actors/types.js";
export type { RemoteRequest, RemoteReply, RemoteSend } from "../runtime/actors/remote-protocol.js";
