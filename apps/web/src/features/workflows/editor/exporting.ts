import type { WorkflowDefinition } from '../../../api/types.ts';

/** Downloads the definition as a .json or .yaml file (the YAML library loads only when asked). */
export async function exportDefinition(def: WorkflowDefinition, format: 'json' | 'yaml'): Promise<void> {
  const text =
    format === 'json' ? `${JSON.stringify(def, null, 2)}\n` : (await import('yaml')).stringify(def);
  const blob = new Blob([text], { type: format === 'json' ? 'application/json' : 'application/yaml' });
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = `${def.name || 'workflow'}.${format}`;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}
