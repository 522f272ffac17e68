// Built-in word lists: fake values the transformers pick from, and real-name lists the detector
// uses to recognise person names by content. Kept apart so the two never feed each other.

/** Fake first names: common across the languages 1001 Stories serves, so staging looks real. */
export const FAKE_FIRST_NAMES = [
  'Amara', 'Ben', 'Chloe', 'Dara', 'Elif', 'Farah', 'Gabriel', 'Hana', 'Ivan', 'Jae', 'Kofi', 'Lena',
  'Mateo', 'Nadia', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Samir', 'Tara', 'Umar', 'Vera', 'Wen', 'Ximena',
  'Yusuf', 'Zara', 'Aiko', 'Bruno', 'Carmen', 'Dmitri', 'Esme', 'Femi', 'Greta', 'Hugo', 'Ines', 'Jonas',
  'Kira', 'Luca', 'Mira', 'Nico', 'Olga', 'Pablo', 'Rania', 'Soren', 'Tomas', 'Uma', 'Viktor', 'Yara',
] as const;

/**
 * Fake surnames: invented but plausible, so a fake "First Last" practically never equals a real
 * production name (the post-copy leak scan compares staging values against production ones).
 */
export const FAKE_LAST_NAMES = [
  'Ashvale', 'Brightwell', 'Copperleigh', 'Dunmere', 'Elderbrook', 'Fernhollow', 'Glenmarsh', 'Hazelmoor',
  'Ivyrock', 'Juniperfield', 'Kestrelby', 'Larchmont', 'Mistvale', 'Northbrook', 'Oakhurst', 'Pinecrest',
  'Quillmere', 'Ravensholt', 'Silverdale', 'Thornbury', 'Umberfield', 'Willowmere', 'Yarrowby', 'Zephyrton',
  'Amberlyn', 'Birchwick', 'Cloudsley', 'Dawnridge', 'Emberton', 'Foxmere', 'Goldthorpe', 'Hollowell',
  'Kingsmere', 'Lindenhall', 'Moonfield', 'Nettlefold', 'Orchardson', 'Primrosey', 'Rookwood', 'Stonebeck',
  'Tidewell', 'Vexley', 'Wrenfield', 'Brackenby', 'Cinderholt', 'Driftmoor', 'Fallowmere', 'Glimmerton',
] as const;

export const FAKE_STREETS = [
  'Example Street', 'Sample Avenue', 'Test Lane', 'Placeholder Road', 'Staging Way', 'Demo Boulevard',
  'Fictional Close', 'Mock Terrace', 'Rehearsal Drive', 'Storybook Lane', 'Maple Example Court', 'Harbor Test Road',
] as const;

export const FAKE_CITIES = [
  'Springfield', 'Riverton', 'Lakeside', 'Fairview', 'Greenville', 'Brookhaven', 'Millbrook', 'Oakridge',
  'Cedar Falls', 'Pine Hollow', 'Westfield', 'Eastport', 'Stillwater', 'Clearwater', 'Hillcrest', 'Ashford',
] as const;

/** Generic, current-ish user agents: keep the "browser on a device" shape without fingerprinting anyone. */
export const FAKE_USER_AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Safari/605.1.15',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.2 Mobile/15E148 Safari/604.1',
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
  'Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0',
] as const;

/** Real given names (lowercase) for content detection: "looks like a person" needs a known first name. */
export const REAL_FIRST_NAMES: ReadonlySet<string> = new Set(
  (
    'james john robert michael william david richard joseph thomas charles christopher daniel matthew anthony mark ' +
    'paul steven andrew kenneth joshua kevin brian george timothy ronald jason edward jeffrey ryan jacob gary ' +
    'nicholas eric jonathan stephen larry justin scott brandon benjamin samuel frank gregory alexander patrick ' +
    'mary patricia jennifer linda elizabeth barbara susan jessica sarah karen lisa nancy betty sandra margaret ' +
    'ashley kimberly emily donna michelle carol amanda melissa deborah stephanie rebecca sharon laura cynthia ' +
    'amy angela anna emma olivia sophia isabella mia charlotte amelia harper evelyn abigail ella grace chloe ' +
    'liam noah oliver elijah lucas mason logan ethan aiden jackson leo hugo luca marco giulia sofia lucia ' +
    'maria jose juan carlos luis miguel ana carmen pedro jorge javier diego pablo elena isabel laura marta ' +
    'mohammed muhammad ahmed ali omar fatima aisha yusuf ibrahim hassan layla zainab amina khadija ' +
    'wei fang li jing min jun hui ying xin yan hiroshi yuki haruto yui sakura takumi aiko kenji ' +
    'minjun seojun jiho jiwoo seoyeon jiwon minseo hayoon sooyoung jisoo hyun jin soo young eun ' +
    'priya rahul amit anjali deepak sunita ravi neha arjun kavya ' +
    'olga ivan dmitri natasha sergei anastasia pierre jean marie sophie claire louis camille ' +
    'hans klaus anna lena lukas jonas felix paul max mila ' +
    'kwame kofi ama abena chinedu ngozi tunde femi adaeze thabo'
  ).split(/\s+/),
);

/** Real surnames (lowercase) for content detection. */
export const REAL_LAST_NAMES: ReadonlySet<string> = new Set(
  (
    'smith johnson williams brown jones garcia miller davis rodriguez martinez hernandez lopez gonzalez wilson ' +
    'anderson thomas taylor moore jackson martin lee perez thompson white harris sanchez clark ramirez lewis ' +
    'robinson walker young allen king wright scott torres nguyen hill flores green adams nelson baker hall ' +
    'rivera campbell mitchell carter roberts kim park choi jung kang cho yoon jang lim han oh seo shin kwon ' +
    'wang zhang liu chen yang huang zhao wu zhou xu sun ma zhu hu guo he lin luo tanaka suzuki sato takahashi ' +
    'watanabe ito yamamoto nakamura kobayashi khan ahmed ali hussain rahman patel singh kumar sharma gupta ' +
    'mueller schmidt schneider fischer weber meyer wagner becker schulz hoffmann dubois durand bernard moreau ' +
    'laurent rossi russo ferrari esposito bianchi romano silva santos oliveira souza costa pereira ' +
    'ivanov petrov smirnov okafor okonkwo adeyemi mensah owusu diallo traore nkosi dlamini cohen levi'
  ).split(/\s+/),
);
