/** The workflow the crash tests run, and the output each run must end with. */
export const crashWorkflow = (latencyMs: number) => ({
  name: 'crash-test',
  input: { type: 'object', properties: { i: { type: 'integer' } }, required: ['i'] },
  nodes: [
    {
      id: 'a',
      type: 'agent',
      agent: { model: 'simulator:echo', prompt: 'A{{input.i}}', simulate: { latencyMs } },
    },
    {
      id: 'b',
      type: 'agent',
      agent: { model: 'simulator:echo', prompt: '{{nodes.a.output}}B', simulate: { latencyMs } },
    },
    {
      id: 'c',
      type: 'agent',
      agent: { model: 'simulator:echo', prompt: '{{nodes.a.output}}C', simulate: { latencyMs } },
    },
    { id: 'd', type: 'output', value: { b: '{{nodes.b.output}}', c: '{{nodes.c.output}}' } },
  ],
  connections: [
    { from: 'a', to: 'b' },
    { from: 'a', to: 'c' },
    { from: 'b', to: 'd' },
    { from: 'c', to: 'd' },
  ],
});

export const expectedOutput = (i: number) => ({ b: `A${i}B`, c: `A${i}C` });
