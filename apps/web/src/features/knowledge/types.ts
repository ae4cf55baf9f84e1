/** The API shapes the knowledge pages read (conversations, terminology, learning). */
export interface Participant {
  id: string;
  name: string;
  model: string;
  integrationId?: string;
}

export interface Conversation {
  id: string;
  title: string | null;
  mode: 'single' | 'multi' | 'collaborative';
  participants: Participant[];
  systemPrompt: string | null;
  settings: Record<string, unknown>;
  totalTokens: number;
  totalCost: number;
  lastMessageAt: string | null;
  createdAt: string;
}

export interface Message {
  id: string;
  senderType: 'user' | 'ai';
  senderId: string | null;
  senderName: string | null;
  model: string | null;
  kind: string;
  replyTo: string | null;
  round: number;
  status: 'completed' | 'failed';
  content: string;
  error: { code: string; message: string } | null;
  tokens: { input: number; output: number; total: number };
  cost: number;
  latencyMs: number | null;
  rating: number | null;
  createdAt: string;
}

export interface Term {
  id: string;
  term: string;
  definition: string;
  context: string | null;
  tags: string[];
  usageExamples: string[];
  relatedTerms: string[];
  isPublic: boolean;
  frequency: number;
  lastUsedAt: string | null;
}

export interface SearchHit {
  entry: Term;
  score: number;
  match: { exact: boolean; fullText: number | null; fuzzy: number | null; semantic: number | null };
}

export interface Pattern {
  id: string;
  patternType: string;
  key: string;
  data: Record<string, unknown>;
  confidence: number;
  occurrences: number;
  lastSeenAt: string;
}

export interface Candidate {
  model: string;
  score: number;
  quality: number | null;
  qualityPerDollar: number | null;
  avgCostUsd: number | null;
  avgLatencyMs: number | null;
  successRate: number | null;
  samples: { answers: number; ratings: number; evaluations: number };
}

export interface Recommendation {
  task: string;
  recommended: string | null;
  reason: string;
  candidates: Candidate[];
}
