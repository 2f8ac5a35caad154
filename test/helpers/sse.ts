/**
 * Reads a Server-Sent Events body frame by frame: `onData` gets each `data:` payload parsed as JSON.
 * Resolves 'complete' on the server's `complete` event or the end of the body.
 */
export async function readSseFrames(body: AsyncIterable<unknown>, onData: (payload: unknown) => void): Promise<'complete'> {
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const chunk of body) {
    buffer += decoder.decode(chunk as Uint8Array, { stream: true });
    let sep;
    while ((sep = buffer.indexOf('\n\n')) !== -1) {
      const block = buffer.slice(0, sep);
      buffer = buffer.slice(sep + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event === 'complete') return 'complete';
      if (data) onData(JSON.parse(data));
    }
  }
  return 'complete';
}
