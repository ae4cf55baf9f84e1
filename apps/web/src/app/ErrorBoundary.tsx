import { Component, type ReactNode } from 'react';
import { Button } from '../ui/button.tsx';
import { Empty } from '../ui/page.tsx';

/** A page that fails to render (or to load its code) says so in words instead of going blank. */
export class ErrorBoundary extends Component<{ children: ReactNode }, { error: Error | null }> {
  override state = { error: null as Error | null };

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  override render() {
    if (!this.state.error) return this.props.children;
    return (
      <div role="alert">
        <Empty title="This page could not be shown">
          <p className="font-medium text-destructive">{this.state.error.message}</p>
          <Button onClick={() => window.location.reload()}>Reload</Button>
        </Empty>
      </div>
    );
  }
}
