/**
 * The Profile Change Trigger's output item: shaped like the Profile Webhook Trigger's (state,
 * profileId, domainGroup, legislation, changes, profile, timelineEvents), so a Profile Webhook
 * after it decides "Property Change" by `changes` and "Event" by `timelineEvents` exactly as after
 * the incoming trigger; plus `change`, what the feed says about the commit.
 */
import type { Profile, ProfileChanges, TimelineEvent } from '../profiles/types';
import type { ChangeFeedEntry } from '../store/ProfileStore';

export interface ChangeItem {
	state: ChangeFeedEntry['state'];
	profileId: string;
	domainGroup: string;
	legislation: string;
	changes: ProfileChanges;
	/** The profile as stored when the item was made (it may have changed again since the commit). */
	profile: Profile;
	/** The timeline events this change wrote. */
	timelineEvents: TimelineEvent[];
	change: {
		seq: number;
		source: string;
		committedAt: string;
		segmentsEntered: string[];
		segmentsLeft: string[];
		legislation?: { before: string; after: string };
	};
}

export function changeItem(entry: ChangeFeedEntry, profile: Profile): ChangeItem {
	return {
		state: entry.state,
		profileId: entry.profileId,
		domainGroup: entry.domainGroup,
		legislation: profile.legislation,
		changes: entry.changes as ProfileChanges,
		profile,
		timelineEvents: entry.events,
		change: {
			seq: entry.seq,
			source: entry.source,
			committedAt: entry.committedAt,
			segmentsEntered: entry.segmentsEntered,
			segmentsLeft: entry.segmentsLeft,
			...(entry.legislation ? { legislation: entry.legislation } : {}),
		},
	};
}
