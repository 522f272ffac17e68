// The four steps and the checklist: the spine shared by the CLI, the wizard and (later) the checklist.

export type StepId = 'setup' | 'data' | 'migrate' | 'validate' | 'checklist';

export interface StepInfo {
  id: StepId;
  title: string;
}

export const STEPS: readonly StepInfo[] = [
  { id: 'setup', title: 'Staging stack' },
  { id: 'data', title: 'Production data subset' },
  { id: 'migrate', title: 'Migration rehearsal' },
  { id: 'validate', title: 'Validation' },
  { id: 'checklist', title: 'Success checklist' },
];

export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'cancelled' | 'skipped';
