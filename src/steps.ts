// The four steps and the checklist: the spine shared by the CLI, the wizard and (later) the checklist.

export type StepId = 'setup' | 'data' | 'migrate' | 'validate' | 'checklist';

export interface StepInfo {
  id: StepId;
  title: string;
  /** false until the step's issue is built; the wizard says so instead of running it. */
  built: boolean;
}

export const STEPS: readonly StepInfo[] = [
  { id: 'setup', title: 'Staging stack', built: true },
  { id: 'data', title: 'Production data subset', built: true },
  { id: 'migrate', title: 'Migration rehearsal', built: false },
  { id: 'validate', title: 'Validation', built: false },
  { id: 'checklist', title: 'Success checklist', built: false },
];

export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'skipped' | 'not-built';
