/** What both pubsub routers export: message types, validator results, signing policies. */
export { TopicValidatorResult, type PubSubMessage, type PubSubMessageEvent, type PubSubEvents, type PubSubOptions, type PublishResult, type SignedPubSubMessage, type SubscriptionChange, type TopicValidator, type UnsignedPubSubMessage } from './types.ts'
export { StrictSign, StrictNoSign, messageIdFromAuthor, messageIdFromData, type MessageIdFn, type SignaturePolicy } from './sign.ts'
export { PubSubBase, PubSubPeer, type PubSubComponents } from './pubsub.ts'
