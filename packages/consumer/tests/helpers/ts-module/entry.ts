// A TypeScript module as a service writes it (NodeNext: `.js` specifiers, an enum), loaded through tsx.
import { greeting } from './greeting.js';

export enum Kind {
  Listener = 'listener',
}

export const loaded: { kind: Kind; text: string } = { kind: Kind.Listener, text: greeting('tsx') };
