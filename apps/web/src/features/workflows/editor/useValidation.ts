import { useEffect, useState } from 'react';
import { call, sdk } from '../../../api/client.ts';
import type { WorkflowDefinition } from '../../../api/types.ts';
import { type IssueMap, mapIssues } from './validation.ts';

const NONE: IssueMap = { byNode: {}, general: [] };

/** Asks the server to check the definition (debounced) and maps the problems onto the nodes. */
export function useValidation(definition: WorkflowDefinition): IssueMap {
  const [issues, setIssues] = useState<IssueMap>(NONE);
  const text = JSON.stringify({ ...definition, nodes: definition.nodes.map(({ position: _p, ...n }) => n) });
  useEffect(() => {
    const controller = new AbortController();
    const t = setTimeout(() => {
      const def = JSON.parse(text) as WorkflowDefinition;
      // An empty canvas is a start, not an error: the canvas itself says what to do.
      if (def.nodes.length === 0) {
        setIssues(NONE);
        return;
      }
      call(
        sdk.api.POST('/api/v1/workflows/validate', { body: { definition: def }, signal: controller.signal }),
      )
        .then((r) => {
          if (!controller.signal.aborted)
            setIssues(
              mapIssues(
                r.issues,
                def.nodes.map((n) => n.id),
              ),
            );
        })
        .catch(() => undefined);
    }, 300);
    return () => {
      controller.abort();
      clearTimeout(t);
    };
  }, [text]);
  return issues;
}
