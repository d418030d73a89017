// The node runtime pieces of @ftpkit/session the server builds on.
export { localFileSystem, nodeDataChannels } from '@ftpkit/session/node';
