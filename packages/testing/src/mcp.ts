import { fileURLToPath } from 'node:url';

/** Path of a runnable MCP stdio server script (see mcp-stdio-server.ts); run it with `node --import tsx`. */
export const MCP_STDIO_SERVER_SCRIPT = fileURLToPath(new URL('./mcp-stdio-server.ts', import.meta.url));
