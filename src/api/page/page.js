// Seula's moderators' page: the queue, one case with its evidence, decisions, the score
// thresholds as charts, and each policy's word lists, all through the JSON API (/v1/cases,
// /v1/cases/{id}, /v1/authors/{id}, /v1/thresholds, /v1/policies…). No framework and no build
// step: the server embeds this file as it is. Routes live in the location hash (#/cases?filters,
// #/cases/12?filters, #/thresholds?since=&until=, #/words/{policy}), so a reload keeps the view
// and its filters.
'use strict';

// ---------------------------------------------------------------------------------------------
// Interface text: every visible word, in Finnish and English.

const TEXT = {
  en: {
    tagline: 'moderation queue',
    shortcuts: 'Shortcuts',
    forget_key: 'Forget key',
    key_forgotten: 'The key is forgotten in this tab.',
    close: 'Close',
    key_title: 'API key',
    key_help: 'This server needs a moderator\'s API key. It is kept in this tab only and sent with every request.',
    key_label: 'Key',
    key_submit: 'Use key',
    key_rejected: 'That key was not accepted. Check it and try again.',
    key_forbidden: 'This key may not work the register: a moderator\'s or an admin\'s key is needed.',
    queue: 'Queue',
    f_status: 'Status',
    f_action: 'Action',
    f_priority: 'Priority',
    f_route: 'Route',
    f_channel: 'Channel',
    f_min_toxicity: 'Toxicity ≥',
    f_q: 'Text contains',
    any: 'any',
    apply: 'Apply',
    clear: 'Clear',
    status_open: 'open',
    status_decided: 'decided',
    status_all: 'all',
    col_case: 'Case',
    col_priority: 'Priority',
    col_action: 'Action',
    col_route: 'Route',
    col_channel: 'Channel',
    col_waiting: 'Waiting',
    col_reply: 'Reply by',
    col_reasons: 'Key reasons',
    col_text: 'Text',
    queue_empty: 'No cases match.',
    load_more: 'Load more',
    queue_hint: 'j / k or ↓ / ↑ to move, Enter or o to open, t for the thresholds, w for the word lists, i for the incidents, ? for all shortcuts.',
    count: '{n} cases',
    count_more: '{n} cases shown, more to load',
    in_queue: 'In the queue',
    in_case: 'In a case',
    k_next: 'next case',
    k_prev: 'previous case',
    k_open: 'open the selected case',
    k_search: 'search the text',
    k_help: 'these shortcuts',
    k_allow: 'allow',
    k_hide: 'hide',
    k_delete: 'delete',
    k_block: 'block the author',
    k_escalate: 'escalate (the case stays open)',
    k_claim: 'claim for 15 minutes',
    k_note: 'write a note for the decision',
    k_back: 'back to the queue',
    help_typing: 'Shortcuts do nothing while you type in a field; Esc leaves the field.',
    loading: 'Loading…',
    back: 'Queue',
    case_title: 'Case #{id}',
    auto: 'automated: {action}',
    claimed_by: 'claimed by {who} until {until}',
    overdue: 'overdue {d}',
    left: 'in {d}',
    answered: 'answered {at}',
    none: '—',
    recorded: 'Recorded',
    waiting: 'Waiting',
    reply_by: 'Reply by',
    written: 'Written',
    language: 'Language',
    channel: 'Channel',
    thread: 'Thread',
    text: 'Text',
    reasons: 'Reasons',
    no_reasons: 'No reasons recorded.',
    decide: 'Decision',
    note: 'Note (optional, sent with the decision)',
    claim: 'Claim',
    claimed: 'Case #{id} is yours until {until}.',
    decided: 'Case #{id}: {decision}.',
    decisions: 'Decisions so far',
    no_decisions: 'No moderator has decided yet.',
    audit: 'Audit log',
    scores: 'Scores',
    sentiment: 'Sentiment',
    signals: 'Key signals',
    no_signals: 'No notable signals.',
    recommendations: 'Recommendations',
    author: 'Author',
    author_blocked: 'blocked',
    author_first_seen: 'first seen {at}',
    author_counts: 'Cases by automated action',
    author_other_cases: 'Their other cases',
    author_none: 'No other cases.',
    thread_cases: 'Other cases in the thread',
    versions: 'Policy {policy} v{version} · model {model}',
    when: 'When',
    who: 'Who',
    what: 'Decision',
    masked: 'masked personal data',
    masked_short: 'masked',
    removed_erasure: 'Text removed: the author’s data was erased.',
    removed_retention: 'Text removed: older than this channel keeps texts.',
    error: 'Error {status}: {message}',
    network: 'The server did not answer: {message}',
    c_cases: 'cases',
    c_prioritized: 'prioritised',
    c_reviewed: 'reviewed',
    c_hidden: 'hidden',
    c_deleted: 'deleted',
    c_blocked_cases: 'block proposed',
    c_protected: 'protected',
    s_profanity: 'Profanity',
    s_toxic: 'Hostility',
    s_urgency: 'Urgency',
    s_personal_data: 'Personal data',
    s_staff_target: 'Aimed at staff',
    s_shouting: 'Capitals',
    s_exclamations: '! and ?',
    s_elongation: 'Stretched letters',
    s_repetition: 'Repetition',
    s_repetition_value: '{same} by the author, {others} by others',
    s_account: 'Account',
    s_account_age: '{n} days old',
    s_no_photo: 'no photo',
    s_few_connections: 'few followers',
    s_few_posts: 'few posts',
    s_empty_bio: 'empty bio',
    s_name_suspicious: 'odd name',
    s_links: 'Links',
    s_answers_with_question: 'Answers with questions',
    s_promotion: 'Promotion',
    s_targeted: 'aimed at someone',
    yes: 'yes',
    u_min: 'min',
    u_h: 'h',
    u_d: 'd',
    thresholds: 'Thresholds',
    k_thresholds: 'score thresholds',
    since: 'From',
    until: 'To',
    thresholds_help: 'Precision and recall compare "at or above the threshold" with moderators\' decisions to hide or delete. Cases recorded from the first day through the last; all without days.',
    l_share: 'share of cases at or above the threshold',
    l_precision: 'precision',
    l_recall: 'recall',
    policy_marks: 'thresholds of policy {policy} v{version}',
    support: 'Decided by a moderator: {n}',
    no_support: 'No case here has a moderator\'s decision: precision and recall need moderators\' decisions.',
    chart_label: '{score}: the share of recorded cases at or above each threshold from 0 to 1, and the precision and recall of that threshold against moderators\' removals over {n} decided cases.',
    chart_marks: ' Policy thresholds: {marks}.',
    back_hint: 'u or Esc back to the queue, ? for all shortcuts.',
    words: 'Word lists',
    k_words: 'word lists',
    incidents: 'Incidents',
    k_incidents: 'incidents',
    trends: 'Trends',
    k_trends: 'trends',
    trends_help: 'The cases recorded in the register over time (UTC): volumes by intent and by action, the share of each sentiment, the incidents opened, and how often the first answer came within the reply-time target.',
    g_bucket: 'Step', g_day: 'day', g_hour: 'hour',
    g_intent: 'Cases by intent',
    g_action: 'Cases by action',
    g_sentiment: 'Sentiment share',
    g_incidents: 'Incidents opened',
    g_reply: 'Reply-time attainment',
    g_in_time: 'In time', g_late: 'Late', g_overdue: 'Overdue', g_attainment: 'Attainment',
    g_none: 'nothing due',
    g_chart: '{title}, {from} to {to}: {series}.',
    g_empty: 'No cases in this range.',
    f_incident: 'Incident',
    incidents_help: 'An incident is many authors reporting one problem within the policy\'s window. Later reports join it and are answered with its status; a closed incident takes no more reports.',
    incidents_empty: 'No incidents.',
    i_open: 'open', i_closed: 'closed', i_merged: 'merged',
    i_reports: '{reports} reports from {authors}+ authors, {cases} cases',
    i_seen: 'first {first}, last {last}',
    i_words: 'Tied by: {words}',
    i_channels: 'Channels: {channels}',
    i_cases: 'Show its cases',
    i_title: 'Title',
    i_rename: 'Rename',
    i_close: 'Close',
    i_reopen: 'Open again',
    i_into: 'Merge into',
    i_merge: 'Merge',
    i_merged_into: 'merged into incident {id}',
    i_done: 'Incident {id} is {status}.',
    words_help: 'One entry per line: a word; a stem ending in * that also catches the word\'s inflections (kusipää* catches kusipäät); or a phrase of words separated by single spaces. A banned word hides the comment, or deletes it if so chosen below; a suspect word sends it to review; allowed words are ones the shipped lexicons flag that this community uses harmlessly. A channel without lists of its own uses the default\'s.',
    w_policy: 'Policy',
    w_channel: 'Or a channel',
    w_open: 'Open',
    w_banned: 'Banned',
    w_suspect: 'Suspect',
    w_allowed: 'Allowed',
    w_banned_action: 'A banned word',
    w_note: 'Note (optional, kept with the version)',
    w_save: 'Save as new version',
    w_activate: 'Activate',
    w_new: 'new',
    w_in_force: 'Policy {name} v{version} is in force. Saving stores a new version, which decides nothing until it is activated.',
    w_inherits: 'The channel {name} has no policy of its own: these are the lists it uses, from default v{version}. Saving gives it lists of its own; the rest of its policy stays the default\'s.',
    w_stored: 'Policy {name} v{version} is stored, not in force.',
    w_activated: 'Policy {name} v{version} is in force for every new comment.',
    w_forbidden: 'Changing a policy needs an admin\'s key.',
    actions: {
      allow: 'allow', prioritize: 'prioritize', review: 'review', hide: 'hide',
      delete: 'delete', block_author: 'block author', escalate: 'escalate',
    },
    priorities: { urgent: 'urgent', high: 'high', normal: 'normal', low: 'low' },
    routes: {
      customer_service: 'customer service', communications: 'communications',
      legal: 'legal', security: 'security', sales: 'sales',
      product: 'product', marketing: 'marketing', hr: 'HR',
    },
    statuses: { open: 'open', decided: 'decided' },
    sentiments: { negative: 'negative', neutral: 'neutral', positive: 'positive' },
    intents: {
      question: 'question', problem_report: 'problem report', complaint: 'complaint',
      refund_or_compensation: 'refund or compensation', purchase_intent: 'sales lead',
      cancellation: 'cancellation', feature_request: 'product idea', praise: 'praise',
      press_or_influencer: 'press or influencer', personal_data_request: 'personal-data request',
      job_inquiry: 'job inquiry', none: 'no intent',
    },
    languages: { fi: 'Finnish', en: 'English', sv: 'Swedish', und: 'unknown' },
    kinds: { scored: 'scored', claimed: 'claimed', decided: 'decided' },
    score_names: {
      toxicity: 'toxicity', severe_toxicity: 'severe toxicity', insult: 'insult',
      threat: 'threat', identity_attack: 'identity attack', profanity: 'profanity',
      spam: 'spam', urgency: 'urgency', troll: 'troll', fake_account: 'fake account',
    },
    personal: {
      identity_code: 'identity code', phone: 'phone number', email: 'e-mail', iban: 'IBAN',
      payment_card: 'payment card', address: 'address', customer_number: 'customer number',
    },
    severities: { mild: 'mild', strong: 'strong', slur: 'slur' },
    toxic_kinds: { insult: 'insult', threat: 'threat', identity_attack: 'identity attack' },
    urgencies: {
      outage: 'outage', money: 'money', safety: 'safety', legal: 'legal', privacy: 'privacy',
      churn: 'leaving', time_pressure: 'deadline',
    },
    recommendation_names: {
      move_to_private_messages: 'move to private messages',
      supervisor_replies: 'a supervisor replies',
    },
    // English shows the server's own reason messages.
    reason_labels: {},
  },
  fi: {
    tagline: 'moderointijono',
    shortcuts: 'Pikanäppäimet',
    forget_key: 'Unohda avain',
    key_forgotten: 'Avain on unohdettu tästä välilehdestä.',
    close: 'Sulje',
    key_title: 'API-avain',
    key_help: 'Tämä palvelin vaatii moderaattorin API-avaimen. Se säilyy vain tässä välilehdessä ja lähtee jokaisen pyynnön mukana.',
    key_label: 'Avain',
    key_submit: 'Käytä avainta',
    key_rejected: 'Avainta ei hyväksytty. Tarkista se ja yritä uudelleen.',
    key_forbidden: 'Tällä avaimella ei voi käsitellä rekisteriä: tarvitaan moderaattorin tai ylläpitäjän avain.',
    queue: 'Jono',
    f_status: 'Tila',
    f_action: 'Toimenpide',
    f_priority: 'Kiireellisyys',
    f_route: 'Ohjaus',
    f_channel: 'Kanava',
    f_min_toxicity: 'Toksisuus ≥',
    f_q: 'Teksti sisältää',
    any: 'kaikki',
    apply: 'Suodata',
    clear: 'Tyhjennä',
    status_open: 'avoimet',
    status_decided: 'päätetyt',
    status_all: 'kaikki',
    col_case: 'Tapaus',
    col_priority: 'Kiireellisyys',
    col_action: 'Toimenpide',
    col_route: 'Ohjaus',
    col_channel: 'Kanava',
    col_waiting: 'Odottanut',
    col_reply: 'Vastattava',
    col_reasons: 'Tärkeimmät syyt',
    col_text: 'Teksti',
    queue_empty: 'Ei tapauksia näillä ehdoilla.',
    load_more: 'Lataa lisää',
    queue_hint: 'j / k tai ↓ / ↑ siirtää, Enter tai o avaa, t näyttää kynnysarvot, w sanalistat, i häiriöt, ? kaikki pikanäppäimet.',
    count: '{n} tapausta',
    count_more: '{n} tapausta näkyvissä, lisää ladattavissa',
    in_queue: 'Jonossa',
    in_case: 'Tapauksessa',
    k_next: 'seuraava tapaus',
    k_prev: 'edellinen tapaus',
    k_open: 'avaa valittu tapaus',
    k_search: 'hae tekstistä',
    k_help: 'nämä pikanäppäimet',
    k_allow: 'salli',
    k_hide: 'piilota',
    k_delete: 'poista',
    k_block: 'estä kirjoittaja',
    k_escalate: 'siirrä eteenpäin (tapaus jää avoimeksi)',
    k_claim: 'varaa itselle 15 minuutiksi',
    k_note: 'kirjoita päätökselle muistiinpano',
    k_back: 'takaisin jonoon',
    help_typing: 'Pikanäppäimet eivät toimi kenttään kirjoitettaessa; Esc poistuu kentästä.',
    loading: 'Ladataan…',
    back: 'Jono',
    case_title: 'Tapaus #{id}',
    auto: 'automaattinen: {action}',
    claimed_by: 'varannut {who} klo {until} asti',
    overdue: 'myöhässä {d}',
    left: '{d} jäljellä',
    answered: 'vastattu {at}',
    none: '—',
    recorded: 'Kirjattu',
    waiting: 'Odottanut',
    reply_by: 'Vastattava',
    written: 'Kirjoitettu',
    language: 'Kieli',
    channel: 'Kanava',
    thread: 'Ketju',
    text: 'Teksti',
    reasons: 'Syyt',
    no_reasons: 'Syitä ei ole kirjattu.',
    decide: 'Päätös',
    note: 'Muistiinpano (vapaaehtoinen, lähtee päätöksen mukana)',
    claim: 'Varaa',
    claimed: 'Tapaus #{id} on varattu sinulle klo {until} asti.',
    decided: 'Tapaus #{id}: {decision}.',
    decisions: 'Päätökset tähän mennessä',
    no_decisions: 'Kukaan moderaattori ei ole vielä päättänyt.',
    audit: 'Tapahtumaloki',
    scores: 'Pisteet',
    sentiment: 'Sävy',
    signals: 'Tärkeimmät havainnot',
    no_signals: 'Ei huomattavia havaintoja.',
    recommendations: 'Suositukset',
    author: 'Kirjoittaja',
    author_blocked: 'estetty',
    author_first_seen: 'ensi kerran {at}',
    author_counts: 'Tapaukset automaattisen toimenpiteen mukaan',
    author_other_cases: 'Muut tapaukset',
    author_none: 'Ei muita tapauksia.',
    thread_cases: 'Ketjun muut tapaukset',
    versions: 'Linjaus {policy} v{version} · malli {model}',
    when: 'Milloin',
    who: 'Kuka',
    what: 'Päätös',
    masked: 'peitetty henkilötieto',
    masked_short: 'peitetty',
    removed_erasure: 'Teksti poistettu: kirjoittajan tiedot on poistettu.',
    removed_retention: 'Teksti poistettu: vanhempi kuin kanava säilyttää tekstejä.',
    error: 'Virhe {status}: {message}',
    network: 'Palvelin ei vastannut: {message}',
    c_cases: 'tapauksia',
    c_prioritized: 'priorisoitu',
    c_reviewed: 'tarkistettavana',
    c_hidden: 'piilotettu',
    c_deleted: 'poistettu',
    c_blocked_cases: 'estoa ehdotettu',
    c_protected: 'suojattu',
    s_profanity: 'Kiroilu',
    s_toxic: 'Vihamielisyys',
    s_urgency: 'Kiire',
    s_personal_data: 'Henkilötiedot',
    s_staff_target: 'Kohteena työntekijä',
    s_shouting: 'Isoja kirjaimia',
    s_exclamations: '! ja ?',
    s_elongation: 'Venytettyjä kirjaimia',
    s_repetition: 'Toisto',
    s_repetition_value: 'kirjoittajalta {same}, muilta {others}',
    s_account: 'Tili',
    s_account_age: '{n} päivää vanha',
    s_no_photo: 'ei kuvaa',
    s_few_connections: 'vähän seuraajia',
    s_few_posts: 'vähän julkaisuja',
    s_empty_bio: 'tyhjä esittely',
    s_name_suspicious: 'outo nimi',
    s_links: 'Linkkejä',
    s_answers_with_question: 'Vastaa kysymyksillä',
    s_promotion: 'Mainostus',
    s_targeted: 'kohdistuu henkilöön',
    yes: 'kyllä',
    u_min: 'min',
    u_h: 't',
    u_d: 'vrk',
    thresholds: 'Kynnysarvot',
    k_thresholds: 'pisteiden kynnysarvot',
    since: 'Alkaen',
    until: 'Asti',
    thresholds_help: 'Osumatarkkuus ja kattavuus vertaavat ”kynnyksellä tai yli” moderaattorien päätöksiin piilottaa tai poistaa. Tapaukset, jotka on kirjattu alkupäivästä loppupäivään; ilman päiviä kaikki.',
    l_share: 'osuus tapauksista kynnyksellä tai yli',
    l_precision: 'osumatarkkuus',
    l_recall: 'kattavuus',
    policy_marks: 'linjauksen {policy} v{version} kynnysarvot',
    support: 'Moderaattorin päättämiä: {n}',
    no_support: 'Yhdelläkään tapauksella ei ole moderaattorin päätöstä: osumatarkkuus ja kattavuus tarvitsevat moderaattorien päätöksiä.',
    chart_label: '{score}: kirjattujen tapausten osuus kullakin kynnyksellä 0–1 tai sen yli sekä kynnyksen osumatarkkuus ja kattavuus moderaattorien poistoihin verrattuna, {n} päätetyn tapauksen perusteella.',
    chart_marks: ' Linjauksen kynnysarvot: {marks}.',
    back_hint: 'u tai Esc palaa jonoon, ? näyttää kaikki pikanäppäimet.',
    words: 'Sanalistat',
    k_words: 'sanalistat',
    incidents: 'Häiriöt',
    k_incidents: 'häiriöt',
    trends: 'Kehitys',
    k_trends: 'kehitys',
    trends_help: 'Rekisterin tapaukset ajan mittaan (UTC): määrät aikeittain ja toimenpiteittäin, sävyjen osuudet, avatut häiriöt ja kuinka usein ensimmäinen vastaus tuli vastausaikatavoitteen sisällä.',
    g_bucket: 'Askel', g_day: 'päivä', g_hour: 'tunti',
    g_intent: 'Tapaukset aikeittain',
    g_action: 'Tapaukset toimenpiteittäin',
    g_sentiment: 'Sävyjen osuus',
    g_incidents: 'Avatut häiriöt',
    g_reply: 'Vastausaikatavoitteen toteutuminen',
    g_in_time: 'Ajallaan', g_late: 'Myöhässä', g_overdue: 'Erääntynyt', g_attainment: 'Toteuma',
    g_none: 'ei erääntyneitä',
    g_chart: '{title}, {from}–{to}: {series}.',
    g_empty: 'Ei tapauksia tällä aikavälillä.',
    f_incident: 'Häiriö',
    incidents_help: 'Häiriö on monen kirjoittajan ilmoitus samasta ongelmasta käytännön aikaikkunan sisällä. Myöhemmät ilmoitukset liitetään siihen ja niihin vastataan sen tilanteella; suljettuun häiriöön ei enää liitetä ilmoituksia.',
    incidents_empty: 'Ei häiriöitä.',
    i_open: 'avoin', i_closed: 'suljettu', i_merged: 'yhdistetty',
    i_reports: '{reports} ilmoitusta, {authors}+ kirjoittajaa, {cases} tapausta',
    i_seen: 'ensin {first}, viimeksi {last}',
    i_words: 'Yhdistävät sanat: {words}',
    i_channels: 'Kanavat: {channels}',
    i_cases: 'Näytä tapaukset',
    i_title: 'Nimi',
    i_rename: 'Nimeä',
    i_close: 'Sulje',
    i_reopen: 'Avaa uudelleen',
    i_into: 'Yhdistä häiriöön',
    i_merge: 'Yhdistä',
    i_merged_into: 'yhdistetty häiriöön {id}',
    i_done: 'Häiriö {id}: {status}.',
    words_help: 'Yksi merkintä riviä kohden: sana; sanan alku ja * perässä, jolloin myös sanan taivutusmuodot osuvat (kusipää* osuu sanaan kusipäät); tai fraasi, jonka sanat erottaa yksi välilyönti. Kielletty sana piilottaa kommentin, tai poistaa sen, jos alla niin valitaan; epäilyttävä sana lähettää sen tarkistettavaksi; sallitut sanat ovat sanoja, jotka valmiit sanastot merkitsevät mutta joita tämä yhteisö käyttää harmittomasti. Kanava, jolla ei ole omia listoja, käyttää oletuslinjauksen listoja.',
    w_policy: 'Linjaus',
    w_channel: 'Tai kanava',
    w_open: 'Avaa',
    w_banned: 'Kielletyt',
    w_suspect: 'Epäilyttävät',
    w_allowed: 'Sallitut',
    w_banned_action: 'Kielletty sana',
    w_note: 'Muistiinpano (vapaaehtoinen, tallentuu version mukana)',
    w_save: 'Tallenna uutena versiona',
    w_activate: 'Ota käyttöön',
    w_new: 'uusi',
    w_in_force: 'Linjaus {name} v{version} on käytössä. Tallennus tekee uuden version, joka ei päätä mitään ennen kuin se otetaan käyttöön.',
    w_inherits: 'Kanavalla {name} ei ole omaa linjausta: nämä ovat listat, jotka se perii oletuslinjauksesta (default v{version}). Tallennus antaa sille omat listat; muilta osin se noudattaa edelleen oletuslinjausta.',
    w_stored: 'Linjaus {name} v{version} on tallennettu, mutta se ei ole vielä käytössä.',
    w_activated: 'Linjaus {name} v{version} on käytössä jokaiselle uudelle kommentille.',
    w_forbidden: 'Linjauksen muuttaminen vaatii ylläpitäjän avaimen.',
    actions: {
      allow: 'salli', prioritize: 'priorisoi', review: 'tarkista', hide: 'piilota',
      delete: 'poista', block_author: 'estä kirjoittaja', escalate: 'siirrä eteenpäin',
    },
    priorities: { urgent: 'kiireellinen', high: 'korkea', normal: 'normaali', low: 'matala' },
    routes: {
      customer_service: 'asiakaspalvelu', communications: 'viestintä',
      legal: 'lakiasiat', security: 'tietoturva', sales: 'myynti',
      product: 'tuotekehitys', marketing: 'markkinointi', hr: 'henkilöstö',
    },
    statuses: { open: 'avoin', decided: 'päätetty' },
    sentiments: { negative: 'kielteinen', neutral: 'neutraali', positive: 'myönteinen' },
    intents: {
      question: 'kysymys', problem_report: 'vikailmoitus', complaint: 'valitus',
      refund_or_compensation: 'hyvitys', purchase_intent: 'myyntivihje',
      cancellation: 'irtisanominen', feature_request: 'tuoteidea', praise: 'kiitos',
      press_or_influencer: 'media tai vaikuttaja', personal_data_request: 'tietopyyntö',
      job_inquiry: 'työhakemus', none: 'ei aietta',
    },
    languages: { fi: 'suomi', en: 'englanti', sv: 'ruotsi', und: 'tuntematon' },
    kinds: { scored: 'pisteytetty', claimed: 'varattu', decided: 'päätetty' },
    score_names: {
      toxicity: 'toksisuus', severe_toxicity: 'vakava toksisuus', insult: 'loukkaus',
      threat: 'uhkaus', identity_attack: 'ryhmään kohdistuva', profanity: 'kiroilu',
      spam: 'roskaposti', urgency: 'kiireellisyys', troll: 'trollaus',
      fake_account: 'valetili',
    },
    personal: {
      identity_code: 'henkilötunnus', phone: 'puhelinnumero', email: 'sähköposti',
      iban: 'tilinumero', payment_card: 'maksukortti', address: 'osoite',
      customer_number: 'asiakasnumero',
    },
    severities: { mild: 'lievä', strong: 'voimakas', slur: 'herja' },
    toxic_kinds: { insult: 'loukkaus', threat: 'uhkaus', identity_attack: 'ryhmään kohdistuva' },
    urgencies: {
      outage: 'vika', money: 'raha', safety: 'turvallisuus', legal: 'oikeustoimet',
      privacy: 'tietosuoja', churn: 'lähtöaikeet', time_pressure: 'määräaika',
    },
    recommendation_names: {
      move_to_private_messages: 'siirrä keskustelu yksityisviesteihin',
      supervisor_replies: 'esihenkilö vastaa',
    },
    // Reason codes in Finnish; {n} is the number in the server's message. The quoted words
    // (or the personal-data kind) follow after a colon.
    reason_labels: {
      'urgency.outage': 'palvelu ei toimi',
      'urgency.money': 'rahaa pelissä',
      'urgency.safety': 'jonkun turvallisuus',
      'urgency.legal': 'oikeustoimilla uhataan',
      'urgency.privacy': 'henkilötiedot vaarassa',
      'urgency.churn': 'asiakas aikoo lähteä',
      'urgency.time_pressure': 'määräaika lähellä',
      'profanity.lexicon': 'kirosana',
      'toxicity.insult': 'loukkaus',
      'toxicity.threat': 'uhkaus',
      'toxicity.identity_attack': 'hyökkäys ryhmää vastaan',
      'toxicity.staff_target': 'vihamielinen työntekijää kohtaan',
      'privacy.personal_data': 'henkilötieto julkisesti',
      'author.history': 'kirjoittajalla {n} aiempaa piilotettua tai poistettua tapausta',
      'repetition.same_author': 'sama kirjoittaja toistaa tekstiään',
      'repetition.coordinated': 'usea kirjoittaja jakaa saman tekstin',
      'account.new': 'tili on {n} päivää vanha',
      'account.no_photo': 'ei profiilikuvaa',
      'account.few_connections': 'alle {n} seuraajaa',
      'account.few_posts': 'alle {n} julkaisua',
      'account.empty_bio': 'tyhjä esittely',
      'account.name_suspicious': 'nimi näyttää keksityltä tai naamioidulta',
      'account.fake': 'profiili näyttää valetililtä tai kertakäyttöiseltä ({n} %)',
      'style.shouting': '{n} % kirjaimista isoja',
      'style.elongation': 'venytettyjä kirjaimia',
      'style.punctuation': '{n} huuto- tai kysymysmerkkiä peräkkäin',
      'writing.quality': 'hyvin heikkoa kieltä',
      'writing.answers_with_question': 'vastaa kysymykseen kysymyksillä',
      'writing.links': 'linkkejä: {n}',
      'spam.promotion': 'mainostusta',
    },
  },
};

const ACTIONS = ['allow', 'prioritize', 'review', 'hide', 'delete', 'block_author'];
const PRIORITIES = ['urgent', 'high', 'normal', 'low'];
const FILTERS = ['status', 'action', 'priority', 'route', 'incident', 'channel', 'min_toxicity', 'q'];
const DECISION_KEYS = { a: 'allow', h: 'hide', d: 'delete', b: 'block_author', e: 'escalate' };
const KEY_STORE = 'seula.key';
const LANG_STORE = 'seula.lang';
const PAGE_SIZE = 50;
const MAX_PAGE = 200;
// The actions a policy sets by score thresholds, strongest first.
const THRESHOLD_ACTIONS = ['delete', 'hide', 'review', 'prioritize'];
const SERIES = ['share', 'precision', 'recall'];
const LISTS = ['banned', 'suspect', 'allowed'];

const state = {
  lang: 'en',
  view: null, // 'queue', 'case', 'thresholds', 'words' or 'key'
  filters: { status: 'open' },
  items: [], // the queue as loaded, in the API's order
  next: null, // the cursor of the next page
  selected: 0,
  selectId: null, // the case to select when the queue next loads
  current: null, // the open case
  author: null, // the open case's author, with their cases
  range: {}, // the thresholds view's days: since and until, YYYY-MM-DD
  thresholds: null, // per score, as GET /v1/thresholds gives them
  policy: null, // the default policy in force, for the thresholds it uses
  words: null, // the word-lists view's policy: name, version, inherits, names (in force), stored
  incidents: null, // the incidents view: status shown and the incidents listed
  trends: null, // the trends view: its range and step, and GET /v1/stats by intent, action, sentiment
  teams: [], // every team the policies in force route to (GET /v1/policies)
  busy: false,
};

const $ = (selector, root = document) => root.querySelector(selector);

function t(key, vars = {}) {
  const text = TEXT[state.lang][key] ?? TEXT.en[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => String(vars[name] ?? ''));
}

// A name from one of the dictionaries' tables (actions, routes…), or the API's word itself.
function word(table, value) {
  if (value == null) return t('none');
  return TEXT[state.lang][table]?.[value] ?? TEXT.en[table]?.[value] ?? String(value).replace(/_/g, ' ');
}

// An element with attributes and children; text is always added as text, never as HTML.
function h(tag, attrs = {}, ...children) {
  return fill(document.createElement(tag), attrs, children);
}

// The same for the charts' SVG elements.
function svg(tag, attrs = {}, ...children) {
  return fill(document.createElementNS('http://www.w3.org/2000/svg', tag), attrs, children);
}

function fill(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// ---------------------------------------------------------------------------------------------
// Times.

const locale = () => (state.lang === 'fi' ? 'fi-FI' : 'en-GB');
const decimal = (x) => x.toLocaleString(locale(), { maximumFractionDigits: 2 });

function when(iso) {
  if (!iso) return t('none');
  return new Date(iso).toLocaleString(locale(), { dateStyle: 'short', timeStyle: 'short' });
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
}

function duration(ms) {
  const minutes = Math.floor(Math.abs(ms) / 60000);
  if (minutes < 1) return `< 1 ${t('u_min')}`;
  if (minutes < 60) return `${minutes} ${t('u_min')}`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} ${t('u_h')} ${minutes % 60} ${t('u_min')}`;
  return `${Math.floor(hours / 24)} ${t('u_d')} ${hours % 24} ${t('u_h')}`;
}

// How long the customer has waited: from when they wrote until the first decision, or until now.
const waiting = (c) =>
  duration(new Date(c.answered_at || Date.now()).getTime() - new Date(c.created_at).getTime());
const isOverdue = (c) => c.status === 'open' && c.respond_by && new Date(c.respond_by) < new Date();

// The reply-time cell: time left, overdue, answered, or nothing.
function replyBy(c) {
  if (!c.respond_by) return h('span', { class: 'muted' }, t('none'));
  const due = new Date(c.respond_by);
  if (c.status !== 'open') {
    return h('span', { class: 'muted', title: when(c.respond_by) }, c.answered_at ? t('answered', { at: when(c.answered_at) }) : when(c.respond_by));
  }
  const left = due.getTime() - Date.now();
  return left < 0
    ? h('span', { class: 'overdue-text', title: when(c.respond_by) }, t('overdue', { d: duration(left) }))
    : h('span', { title: when(c.respond_by) }, t('left', { d: duration(left) }));
}

// ---------------------------------------------------------------------------------------------
// The API. Every call carries the key when there is one; a 401 asks for a key.

class ApiFailure extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function api(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  const key = sessionStorage.getItem(KEY_STORE);
  if (key) headers.authorization = `Bearer ${key}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiFailure(0, 'network', e.message);
  }
  let data = null;
  try {
    data = await response.json();
  } catch (_) {
    data = null;
  }
  if (!response.ok) {
    throw new ApiFailure(response.status, data?.error?.code, data?.error?.message ?? response.statusText);
  }
  return data;
}

// Runs an API action; a 401 or 403 shows the key form (a 403 saying `forbidden`), anything else
// the message area.
async function attempt(action, forbidden = t('key_forbidden')) {
  try {
    return await action();
  } catch (e) {
    if (!(e instanceof ApiFailure)) throw e;
    if (e.status === 401) {
      showKeyView(sessionStorage.getItem(KEY_STORE) ? t('key_rejected') : null);
    } else if (e.status === 403) {
      showKeyView(forbidden);
    } else if (e.status === 0) {
      say(t('network', { message: e.message }), 'error');
    } else {
      say(t('error', { status: e.status, message: e.message }), 'error');
    }
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Messages, language, views.

function say(text, kind = 'info') {
  const box = $('#message');
  $('#message-text').textContent = text;
  box.className = `message ${kind}`;
  box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  box.hidden = false;
}

function quiet() {
  $('#message').hidden = true;
}

function setLanguage(lang) {
  state.lang = lang === 'fi' ? 'fi' : 'en';
  localStorage.setItem(LANG_STORE, state.lang);
  document.documentElement.lang = state.lang;
  for (const el of document.querySelectorAll('[data-t]')) el.textContent = t(el.dataset.t);
  for (const el of document.querySelectorAll('[data-t-label]')) el.setAttribute('aria-label', t(el.dataset.tLabel));
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.setAttribute('aria-pressed', String(button.dataset.lang === state.lang));
  }
  fillSelect('action', ACTIONS, 'actions');
  fillSelect('priority', PRIORITIES, 'priorities');
  fillSelect('route', state.teams, 'routes');
  for (const option of $('#words-form [name="banned_action"]').options) option.textContent = word('actions', option.value);
  if (state.view === 'queue') renderQueue();
  if (state.view === 'case' && state.current) renderCase();
  if (state.view === 'thresholds' && state.thresholds) renderThresholds();
  if (state.view === 'words' && state.words) renderWords();
  if (state.view === 'incidents' && state.incidents) renderIncidents();
  if (state.view === 'trends' && state.trends?.data) renderTrends();
}

function fillSelect(name, values, table) {
  const select = $(`#filters [name="${name}"]`);
  const chosen = select.value || state.filters[name] || '';
  select.replaceChildren(h('option', { value: '' }, t('any')), ...values.map((v) => h('option', { value: v }, word(table, v))));
  select.value = chosen;
}

function show(view) {
  state.view = view;
  $('#key-view').hidden = view !== 'key';
  $('#queue-view').hidden = view !== 'queue';
  $('#case-view').hidden = view !== 'case';
  $('#thresholds-view').hidden = view !== 'thresholds';
  $('#words-view').hidden = view !== 'words';
  $('#incidents-view').hidden = view !== 'incidents';
  $('#trends-view').hidden = view !== 'trends';
  for (const link of document.querySelectorAll('a.nav')) {
    if (link.dataset.view === view) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  $('#forget-key').hidden = !sessionStorage.getItem(KEY_STORE);
}

function showKeyView(problem) {
  show('key');
  if (problem) say(problem, 'error');
  const input = $('#key-input');
  input.value = '';
  input.focus();
}

// ---------------------------------------------------------------------------------------------
// Routes: #/cases?filters, #/cases/{id}?filters, #/thresholds?since=&until= and #/words/{policy}.

function parseHash() {
  const hash = location.hash.replace(/^#/, '') || '/cases';
  const [path, query = ''] = hash.split('?');
  const params = new URLSearchParams(query);
  if (path === '/thresholds') {
    const day = (name) => (/^\d{4}-\d{2}-\d{2}$/.test(params.get(name)) ? params.get(name) : undefined);
    return { range: { since: day('since'), until: day('until') } };
  }
  if (path === '/trends') {
    // A calendar day only: 2026-02-31 or 2026-13-01 is no day, and is left out.
    const day = (name) => {
      const value = params.get(name) ?? '';
      const at = new Date(`${value}T00:00:00Z`);
      return !Number.isNaN(at.getTime()) && at.toISOString().slice(0, 10) === value ? value : undefined;
    };
    const bucket = params.get('bucket') === 'hour' ? 'hour' : 'day';
    return { trends: { since: day('since'), until: day('until'), bucket } };
  }
  if (path === '/incidents') {
    const status = params.get('status');
    return { incidents: ['open', 'closed', 'merged', 'all'].includes(status) ? status : 'open' };
  }
  const words = path.match(/^\/words(?:\/(.+))?$/);
  if (words) return { policy: decodeURIComponent(words[1] ?? 'default') };
  const filters = { status: 'open' };
  for (const name of FILTERS) {
    const value = params.get(name);
    if (value) filters[name] = value;
  }
  const match = path.match(/^\/cases\/(\d+)$/);
  return { caseId: match ? Number(match[1]) : null, filters };
}

function filterQuery(filters) {
  const params = new URLSearchParams();
  for (const name of FILTERS) if (filters[name]) params.set(name, filters[name]);
  return params.toString();
}

const queueHash = () => `#/cases?${filterQuery(state.filters)}`;
const caseHash = (id) => `#/cases/${id}?${filterQuery(state.filters)}`;

function thresholdsHash(range) {
  const params = new URLSearchParams();
  for (const name of ['since', 'until']) if (range[name]) params.set(name, range[name]);
  return `#/thresholds?${params}`;
}

const wordsHash = (name) => `#/words/${encodeURIComponent(name)}`;
const incidentsHash = (status) => `#/incidents?status=${status}`;

function trendsHash({ since, until, bucket }) {
  const params = new URLSearchParams({ bucket });
  if (since) params.set('since', since);
  if (until) params.set('until', until);
  return `#/trends?${params}`;
}

function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

async function route() {
  const { range, policy, incidents, trends, caseId, filters } = parseHash();
  if (trends) {
    await loadTrends(trends);
    return;
  }
  if (incidents) {
    await loadIncidents(incidents);
    return;
  }
  if (range) {
    await loadThresholds(range); // the queue's filters stay as they were
    return;
  }
  if (policy) {
    await loadWords(policy);
    return;
  }
  state.filters = filters;
  if (caseId != null) await openCase(caseId);
  else await loadQueue();
}

// ---------------------------------------------------------------------------------------------
// The queue.

function apiQuery(filters, extra = {}) {
  const params = new URLSearchParams();
  for (const name of FILTERS) {
    const value = (filters[name] ?? '').trim();
    if (!value || (name === 'status' && value === 'all')) continue;
    params.set(name, value);
  }
  for (const [name, value] of Object.entries(extra)) params.set(name, value);
  return params.toString();
}

function formToFilters() {
  const form = $('#filters');
  const filters = {};
  for (const name of FILTERS) {
    const value = form.elements[name].value.trim();
    if (value) filters[name] = value;
  }
  filters.status = filters.status || 'open';
  return filters;
}

function filtersToForm() {
  const form = $('#filters');
  for (const name of FILTERS) form.elements[name].value = state.filters[name] ?? '';
  form.elements.status.value = state.filters.status ?? 'open';
}

// The teams the policies in force route to, for the route filter: read once.
async function loadTeams() {
  const policies = await attempt(() => api('/v1/policies'));
  if (!policies) return;
  state.teams = policies.teams;
  fillSelect('route', state.teams, 'routes');
}

async function loadQueue() {
  if (!state.teams.length) await loadTeams();
  filtersToForm();
  const limit = Math.min(MAX_PAGE, Math.max(PAGE_SIZE, state.items.length));
  const page = await attempt(() => api(`/v1/cases?${apiQuery(state.filters, { limit })}`));
  if (!page) {
    if (state.view !== 'key') show('queue'); // the filters stay at hand to fix what was refused
    return;
  }
  // Keep the selection on the same case, or on the one chosen after a decision.
  const keep = state.selectId ?? state.items[state.selected]?.id;
  const oldIndex = state.selected;
  state.items = page.items;
  state.next = page.next;
  const found = state.items.findIndex((c) => c.id === keep);
  state.selected = found >= 0 ? found : Math.min(oldIndex, Math.max(0, state.items.length - 1));
  state.selectId = null;
  state.current = null;
  show('queue');
  renderQueue();
  focusSelected();
}

async function loadMore() {
  if (!state.next) return;
  const page = await attempt(() => api(`/v1/cases?${apiQuery(state.filters, { cursor: state.next })}`));
  if (!page) return;
  state.items = state.items.concat(page.items);
  state.next = page.next;
  renderQueue();
}

function reasonsBrief(c) {
  const chars = Array.from(c.text ?? '');
  return (c.reasons ?? []).slice(0, 2).map((r) => reasonText(r, chars));
}

function excerpt(text, max = 90) {
  const chars = Array.from(text ?? '');
  return chars.length > max ? `${chars.slice(0, max).join('')}…` : chars.join('');
}

// An excerpt with each run of masked characters (•) as one small chip.
function excerptNode(text, max = 90) {
  const parts = excerpt(text, max).split(/(•+)/);
  return parts.map((part) => (part.startsWith('•')
    ? h('span', { class: 'pd pd-small', title: t('masked') }, t('masked_short'))
    : part));
}

function badge(kind, value, table) {
  return h('span', { class: `badge ${kind}-${value}` }, word(table, value));
}

function renderQueue() {
  const body = $('#queue tbody');
  body.replaceChildren(...state.items.map((c, i) => {
    const reasons = reasonsBrief(c);
    const row = h('tr', {
      'data-id': c.id,
      tabindex: i === state.selected ? '0' : '-1',
      class: [isOverdue(c) ? 'overdue' : '', i === state.selected ? 'selected' : ''].join(' ').trim() || null,
      'aria-current': i === state.selected ? 'true' : null,
      onclick: (e) => {
        if (e.target.closest('a')) return;
        state.selected = i;
        go(caseHash(c.id));
      },
    },
    h('td', { class: 'id' }, h('a', { href: caseHash(c.id) }, `#${c.id}`)),
    h('td', {}, badge('priority', c.priority, 'priorities')),
    h('td', {},
      badge('action', c.outcome, 'actions'),
      c.status === 'decided' ? h('span', { class: 'status' }, word('statuses', 'decided')) : null,
      c.claimed_by ? h('span', { class: 'claim', title: t('claimed_by', { who: c.claimed_by, until: when(c.claimed_until) }) }, c.claimed_by) : null),
    h('td', {}, word('routes', c.route)),
    h('td', {}, c.channel ?? t('none')),
    h('td', { class: 'num' }, waiting(c)),
    h('td', { class: 'num' }, replyBy(c)),
    h('td', { class: 'reasons-cell' }, reasons.map((r) => h('div', {}, r))),
    h('td', { class: 'excerpt', lang: c.language === 'und' ? null : c.language }, excerptNode(c.text)));
    return row;
  }));
  $('#queue-empty').hidden = state.items.length > 0;
  $('#load-more').hidden = !state.next;
  $('#queue-count').textContent = t(state.next ? 'count_more' : 'count', { n: state.items.length });
  const channels = [...new Set(state.items.map((c) => c.channel).filter(Boolean))].sort();
  $('#channels').replaceChildren(...channels.map((c) => h('option', { value: c })));
}

function select(index) {
  if (!state.items.length) return;
  state.selected = Math.max(0, Math.min(state.items.length - 1, index));
  const rows = document.querySelectorAll('#queue tbody tr');
  rows.forEach((row, i) => {
    const on = i === state.selected;
    row.classList.toggle('selected', on);
    row.tabIndex = on ? 0 : -1;
    if (on) row.setAttribute('aria-current', 'true');
    else row.removeAttribute('aria-current');
  });
  focusSelected();
}

function focusSelected() {
  const row = document.querySelectorAll('#queue tbody tr')[state.selected];
  if (row) {
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: 'nearest' });
  }
}

function applyFilters() {
  state.filters = formToFilters();
  state.selected = 0;
  state.items = [];
  go(queueHash());
}

// ---------------------------------------------------------------------------------------------
// One case.

// A reason in the interface's language: the server's message in English, a Finnish label with
// the quoted words (or the personal-data kind) in Finnish.
function reasonText(r, chars) {
  if (state.lang === 'en') {
    if (r.code !== 'privacy.personal_data') return r.message;
    return `${r.message.split(': ')[0]}: ${word('personal', r.message.split(': ').pop())}`;
  }
  let label = TEXT.fi.reason_labels[r.code];
  if (!label) return r.message;
  const number = (r.message.match(/\d+/) ?? [''])[0];
  label = label.replace('{n}', number);
  if (r.code === 'profanity.lexicon') {
    const severity = (r.message.match(/^(\w+)/) ?? ['', ''])[1];
    label = `${word('severities', severity)} ${label}`;
  }
  if (r.code === 'privacy.personal_data') {
    const kind = r.message.split(': ').pop();
    return `${label}: ${word('personal', kind)}`;
  }
  const quoted = r.message.match(/"(.*)"/);
  if (quoted) return `${label}: ”${quoted[1]}”`;
  if (Array.isArray(r.span) && chars.length) return `${label}: ”${chars.slice(r.span[0], r.span[1]).join('')}”`;
  return label;
}

async function openCase(id) {
  if (state.current?.id !== id) {
    show('case');
    $('#case-view').replaceChildren(h('p', { class: 'muted' }, t('loading')));
  }
  const detail = await attempt(() => api(`/v1/cases/${id}`));
  if (!detail) {
    if (state.view === 'case') $('#case-view').replaceChildren(backButton());
    return;
  }
  let author = null;
  if (detail.author_id) {
    try {
      author = await api(`/v1/authors/${encodeURIComponent(detail.author_id)}`);
    } catch (e) {
      author = null; // The case's own author summary still shows.
    }
  }
  state.current = detail;
  state.author = author;
  const index = state.items.findIndex((c) => c.id === id);
  if (index >= 0) state.selected = index;
  show('case');
  renderCase();
  $('#case-view h1').focus();
}

// The text as code points (spans count Unicode scalar values, not UTF-16 units), each reason's
// span a <mark>, masked personal data a labelled chip.
function renderText(c) {
  if (c.text_removed) return h('p', { class: 'removed' }, t(`removed_${c.text_removed}`));
  const chars = Array.from(c.text);
  const clamp = (n) => Math.max(0, Math.min(chars.length, n));
  const spans = [];
  (c.reasons ?? []).forEach((r, i) => {
    if (Array.isArray(r.span)) spans.push({ start: clamp(r.span[0]), end: clamp(r.span[1]), i });
  });
  const personal = (c.signals?.personal_data ?? [])
    .filter((p) => Array.isArray(p.span))
    .map((p) => ({ start: clamp(p.span[0]), end: clamp(p.span[1]), kind: p.kind }));
  const cuts = new Set([0, chars.length]);
  for (const s of spans.concat(personal)) {
    cuts.add(s.start);
    cuts.add(s.end);
  }
  const points = [...cuts].sort((a, b) => a - b);
  const out = h('p', { class: 'text', lang: c.language === 'und' ? null : c.language });
  for (let k = 0; k + 1 < points.length; k += 1) {
    const [a, b] = [points[k], points[k + 1]];
    const data = personal.find((p) => p.start <= a && b <= p.end);
    if (data && a !== data.start) continue; // the chip stands for the whole value
    const content = data
      ? h('span', { class: 'pd', title: `${t('masked')}: ${word('personal', data.kind)}` },
        h('span', { class: 'pd-label' }, t('masked_short')), ' ', word('personal', data.kind))
      : chars.slice(a, b).join('');
    const covering = spans.filter((s) => s.start <= a && (data ? data.end : b) <= s.end).map((s) => s.i);
    if (covering.length) {
      out.append(h('mark', {
        class: `hl c${covering[0] % 6}`,
        'data-reasons': covering.join(' '),
        'data-n': covering.map((i) => i + 1).join(','),
        title: covering.map((i) => reasonText(c.reasons[i], chars)).join('\n'),
      }, content));
    } else {
      out.append(content);
    }
  }
  return out;
}

function backButton() {
  return h('button', { type: 'button', class: 'back', onclick: () => go(queueHash()) }, '← ', t('back'), ' ', h('kbd', {}, 'u'));
}

function section(title, ...children) {
  return h('section', { class: 'panel' }, h('h2', {}, title), ...children);
}

function scoreBars(scores) {
  const entries = Object.entries(scores ?? {}).sort((a, b) => b[1] - a[1]);
  return h('table', { class: 'scores' }, h('tbody', {}, entries.map(([name, value]) => {
    const fill = h('span', { class: 'fill' });
    fill.style.width = `${Math.round(value * 100)}%`;
    const level = value >= 0.8 ? 'high' : value >= 0.5 ? 'mid' : 'low';
    return h('tr', {},
      h('th', { scope: 'row' }, word('score_names', name)),
      h('td', { class: 'bar-cell' }, h('span', { class: `bar ${level}` }, fill)),
      h('td', { class: 'num' }, value.toFixed(2)));
  })));
}

function signalRows(c) {
  const s = c.signals ?? {};
  const rows = [];
  const add = (label, ...value) => rows.push(h('dt', {}, label), h('dd', {}, ...value));
  if (s.profanity?.length) add(t('s_profanity'), s.profanity.map((p) => `${p.word} (${word('severities', p.severity)})`).join(', '));
  if (s.toxic?.length) {
    add(t('s_toxic'), s.toxic.map((x) => `${word('toxic_kinds', x.kind)}: ${x.word}${x.targeted ? ` (${t('s_targeted')})` : ''}`).join(', '));
  }
  if (s.urgency?.length) add(t('s_urgency'), s.urgency.map((u) => `${word('urgencies', u.category)}: ${u.words}`).join(', '));
  if (s.personal_data?.length) add(t('s_personal_data'), s.personal_data.map((p) => word('personal', p.kind)).join(', '));
  if (s.staff_target) add(t('s_staff_target'), s.staff_target.target ?? t('yes'));
  const style = s.style ?? {};
  if (style.shouting >= 0.2) add(t('s_shouting'), `${Math.round(style.shouting * 100)} %`);
  if (style.exclamations || style.questions) add(t('s_exclamations'), `${style.exclamations ?? 0} ! · ${style.questions ?? 0} ?`);
  if (style.elongation > 0) add(t('s_elongation'), style.elongation.toFixed(2));
  const rep = s.repetition ?? {};
  if (rep.same_author || rep.other_authors) add(t('s_repetition'), t('s_repetition_value', { same: rep.same_author ?? 0, others: rep.other_authors ?? 0 }));
  const acc = s.account ?? {};
  const account = [
    acc.age_days != null ? t('s_account_age', { n: acc.age_days }) : null,
    acc.has_photo === false ? t('s_no_photo') : null,
    acc.few_connections ? t('s_few_connections') : null,
    acc.few_posts ? t('s_few_posts') : null,
    acc.empty_bio ? t('s_empty_bio') : null,
    acc.name_suspicious >= 0.5 ? t('s_name_suspicious') : null,
  ].filter(Boolean);
  if (account.length) add(t('s_account'), account.join(', '));
  const writing = s.writing ?? {};
  if (writing.links) add(t('s_links'), writing.links);
  if (writing.answers_with_question) add(t('s_answers_with_question'), t('yes'));
  if (writing.promotion?.length) add(t('s_promotion'), writing.promotion.map((p) => p.words ?? p).join(', '));
  return rows.length ? h('dl', { class: 'signals' }, rows) : h('p', { class: 'muted' }, t('no_signals'));
}

function caseLink(c) {
  return h('li', {},
    h('a', { href: caseHash(c.id) }, `#${c.id}`), ' ',
    badge('action', c.outcome, 'actions'), ' ',
    h('span', { class: 'muted' }, `${word('statuses', c.status)} · ${when(c.recorded_at)}`), ' ',
    h('span', { class: 'excerpt' }, excerptNode(c.text, 70)));
}

function auditDetail(entry) {
  const d = entry.detail ?? {};
  if (entry.kind === 'scored') return `${word('actions', d.action)} · ${word('priorities', d.priority)} · ${word('routes', d.route)}`;
  if (entry.kind === 'claimed') return d.until ? clock(d.until) : '';
  if (entry.kind === 'decided') {
    const change = `${word('actions', d.previous_outcome)} → ${word('actions', d.decision)}`;
    return d.note ? `${change} · “${d.note}”` : change;
  }
  return JSON.stringify(d);
}

function renderCase() {
  const c = state.current;
  const chars = Array.from(c.text);
  const author = state.author ?? (c.author ? { ...c.author, cases_list: [] } : null);
  const view = $('#case-view');

  const head = h('div', { class: 'case-head' },
    backButton(),
    h('h1', { tabindex: '-1' }, t('case_title', { id: c.id }), ' ', h('span', { class: 'muted small' }, c.comment_id)),
    h('div', { class: 'badges' },
      badge('priority', c.priority, 'priorities'),
      badge('action', c.outcome, 'actions'),
      c.outcome !== c.action ? h('span', { class: 'muted' }, t('auto', { action: word('actions', c.action) })) : null,
      h('span', { class: `status status-${c.status}` }, word('statuses', c.status)),
      h('span', {}, word('routes', c.route)),
      isOverdue(c) ? h('span', { class: 'badge overdue-badge' }, t('overdue', { d: duration(Date.now() - new Date(c.respond_by)) })) : null,
      c.claimed_by ? h('span', { class: 'claim' }, t('claimed_by', { who: c.claimed_by, until: clock(c.claimed_until) })) : null),
    h('dl', { class: 'facts' },
      h('dt', {}, t('channel')), h('dd', {}, c.channel ?? t('none')),
      h('dt', {}, t('language')), h('dd', {}, word('languages', c.language)),
      h('dt', {}, t('written')), h('dd', {}, when(c.created_at)),
      h('dt', {}, t('recorded')), h('dd', {}, when(c.recorded_at)),
      h('dt', {}, t('waiting')), h('dd', {}, waiting(c)),
      h('dt', {}, t('reply_by')), h('dd', {}, replyBy(c))));

  const reasons = (c.reasons ?? []).length
    ? h('ol', { class: 'reasons' }, c.reasons.map((r, i) => h('li', {
      class: `c${i % 6}`,
      'data-reason': i,
      tabindex: '0',
      onmouseenter: () => spotlight(i, true),
      onmouseleave: () => spotlight(i, false),
      onfocus: () => spotlight(i, true),
      onblur: () => spotlight(i, false),
    },
    h('span', { class: 'swatch', 'aria-hidden': 'true' }, Array.isArray(r.span) ? String(i + 1) : '·'),
    h('span', {}, reasonText(r, chars)),
    h('span', { class: 'weight', title: r.code }, r.weight.toFixed(2)))))
    : h('p', { class: 'muted' }, t('no_reasons'));

  const decisionButton = (key, decision) => h('button', {
    type: 'button', class: `decision d-${decision}`, 'data-decision': decision, onclick: () => decide(decision),
  }, h('kbd', {}, key), ' ', word('actions', decision));
  const decide_ = section(t('decide'),
    h('div', { class: 'decide-row' },
      Object.entries(DECISION_KEYS).map(([key, decision]) => decisionButton(key, decision)),
      h('button', { type: 'button', class: 'decision', id: 'claim-button', onclick: () => claim() }, h('kbd', {}, 'c'), ' ', t('claim'))),
    h('label', { for: 'note', class: 'note-label' }, h('kbd', {}, 'n'), ' ', t('note')),
    h('textarea', { id: 'note', rows: '2', maxlength: '2000' }));

  const decisions = (c.decisions ?? []).length
    ? h('table', { class: 'list' },
      h('thead', {}, h('tr', {}, h('th', {}, t('when')), h('th', {}, t('who')), h('th', {}, t('what')), h('th', {}, t('note')))),
      h('tbody', {}, c.decisions.map((d) => h('tr', {},
        h('td', {}, when(d.decided_at)), h('td', {}, d.moderator), h('td', {}, word('actions', d.decision)), h('td', {}, d.note ?? '')))))
    : h('p', { class: 'muted' }, t('no_decisions'));

  const audit = h('ol', { class: 'audit' }, (c.audit ?? []).map((entry) => h('li', {},
    h('span', { class: 'muted' }, when(entry.at)), ' ',
    h('strong', {}, entry.actor), ' ', word('kinds', entry.kind), ' ',
    h('span', {}, auditDetail(entry)))));

  const sentiment = c.sentiment?.label
    ? h('p', {}, `${t('sentiment')}: `, h('strong', {}, word('sentiments', c.sentiment.label)), ` (${Number(c.sentiment.score).toFixed(2)})`)
    : null;

  const recommendations = (c.recommendations ?? []).length
    ? section(t('recommendations'), h('ul', {}, c.recommendations.map((r) => h('li', {}, word('recommendation_names', r)))))
    : null;

  const others = (author?.cases_list ?? []).filter((o) => o.id !== c.id);
  const counts = author
    ? ['cases', 'prioritized', 'reviewed', 'hidden', 'deleted', 'blocked_cases', 'protected']
      .filter((k) => author[k])
      .map((k) => h('span', { class: 'count' }, `${t(`c_${k}`)} `, h('strong', {}, String(author[k]))))
    : [];
  const authorSection = author
    ? section(t('author'),
      h('p', {}, h('code', {}, author.id), ' ', author.blocked ? h('span', { class: 'badge action-block_author' }, t('author_blocked')) : null),
      h('p', { class: 'muted' }, t('author_first_seen', { at: when(author.first_seen) })),
      h('p', { class: 'counts', title: t('author_counts') }, counts),
      h('h3', {}, t('author_other_cases')),
      others.length ? h('ul', { class: 'cases' }, others.slice(0, 10).map(caseLink)) : h('p', { class: 'muted' }, t('author_none')))
    : null;

  const thread = (c.thread ?? []).length
    ? section(t('thread_cases'), h('p', { class: 'muted' }, h('code', {}, c.thread_id)), h('ul', { class: 'cases' }, c.thread.map(caseLink)))
    : null;

  view.replaceChildren(
    head,
    h('div', { class: 'case-grid' },
      h('div', { class: 'case-main' },
        section(t('text'), renderText(c)),
        section(t('reasons'), reasons),
        decide_,
        section(t('decisions'), decisions),
        section(t('audit'), audit)),
      h('aside', { class: 'case-side' },
        section(t('scores'), scoreBars(c.scores), sentiment),
        section(t('signals'), signalRows(c)),
        recommendations,
        authorSection,
        thread,
        h('p', { class: 'muted small' }, t('versions', { policy: c.policy_name, version: c.policy_version, model: c.model_version })))));
}

function spotlight(i, on) {
  for (const mark of document.querySelectorAll('#case-view mark')) {
    if (mark.dataset.reasons.split(' ').includes(String(i))) mark.classList.toggle('spot', on);
  }
}

async function decide(decision) {
  const c = state.current;
  if (!c || state.busy) return;
  state.busy = true;
  const note = $('#note')?.value.trim();
  const body = note ? { decision, note } : { decision };
  try {
    const done = await attempt(() => api(`/v1/cases/${c.id}/decisions`, { method: 'POST', body }));
    if (!done) return;
    say(t('decided', { id: c.id, decision: word('actions', decision) }), 'ok');
    // Back to the queue with the case after this one selected.
    const index = state.items.findIndex((x) => x.id === c.id);
    const after = index >= 0 ? state.items.slice(index + 1).find((x) => x.id !== c.id) : state.items[0];
    state.selectId = after ? after.id : null;
    if (index >= 0) state.selected = index;
    go(queueHash());
  } finally {
    state.busy = false;
  }
}

async function claim() {
  const c = state.current;
  if (!c || state.busy) return;
  state.busy = true;
  try {
    const done = await attempt(() => api(`/v1/cases/${c.id}/claim`, { method: 'POST', body: { minutes: 15 } }));
    if (!done) return;
    say(t('claimed', { id: c.id, until: clock(done.claimed_until) }), 'ok');
    await openCase(c.id);
  } finally {
    state.busy = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Thresholds: one chart per score of GET /v1/thresholds, with the default policy's thresholds.

// The days as the API's times: from the start of `since` to the end of `until`, both local.
function rangeQuery(range) {
  const params = new URLSearchParams();
  const start = (day, later = 0) => {
    const at = new Date(`${day}T00:00`);
    at.setDate(at.getDate() + later);
    return at.toISOString();
  };
  if (range.since) params.set('since', start(range.since));
  if (range.until) params.set('until', start(range.until, 1));
  return params.toString();
}

async function loadThresholds(range) {
  state.range = range;
  const form = $('#range');
  form.elements.since.value = range.since ?? '';
  form.elements.until.value = range.until ?? '';
  if (state.view !== 'thresholds') {
    show('thresholds');
    $('#charts').replaceChildren(h('p', { class: 'muted' }, t('loading')));
  }
  const loaded = await attempt(() => Promise.all([
    api(`/v1/thresholds?${rangeQuery(range)}`),
    api('/v1/policies/default'),
  ]));
  if (!loaded) {
    if (state.view === 'thresholds') $('#charts').replaceChildren();
    return;
  }
  [state.thresholds, state.policy] = loaded;
  show('thresholds');
  renderThresholds();
  $('#thresholds-title').focus();
}

function renderThresholds() {
  $('#policy-marks').textContent = t('policy_marks', { policy: state.policy.name, version: state.policy.version });
  $('#charts').replaceChildren(...state.thresholds.map((score) => {
    const name = word('score_names', score.score);
    return h('figure', { class: 'panel chart', 'data-score': score.score },
      h('h2', {}, name),
      chart(score, name),
      h('figcaption', { class: 'muted small' },
        score.support ? t('support', { n: score.support }) : t('no_support')));
  }));
}

// The thresholds the policy in force uses for a score, lowest first.
function policyMarks(score) {
  const actions = state.policy.policy.actions;
  return THRESHOLD_ACTIONS
    .filter((action) => actions[action]?.[score] != null)
    .map((action) => ({ action, threshold: actions[action][score] }))
    .sort((a, b) => a.threshold - b.threshold);
}

// Chart geometry in the SVG's own units; it scales to the width of its grid cell.
const CHART = { width: 320, height: 164, left: 26, right: 12, top: 30, bottom: 20 };

// One score's chart: x the threshold, y 0–1, a line per series (a null point breaks it), and
// a labelled vertical line at each threshold the policy uses.
function chart(score, name) {
  const { width, height, left, right, top, bottom } = CHART;
  const x = (v) => (left + v * (width - left - right)).toFixed(1);
  const y = (v) => (height - bottom - v * (height - top - bottom)).toFixed(1);
  const marks = policyMarks(score.score);
  const label = t('chart_label', { score: name, n: score.support }) + (marks.length
    ? t('chart_marks', { marks: marks.map((m) => `${word('actions', m.action)} ${decimal(m.threshold)}`).join(', ') })
    : '');

  const ticks = [0, 0.5, 1].map((v) => [
    svg('line', { class: 'grid', x1: x(0), x2: x(1), y1: y(v), y2: y(v) }),
    svg('line', { class: 'grid', x1: x(v), x2: x(v), y1: y(0), y2: y(1) }),
    svg('line', { class: 'tick', 'data-axis': 'x', 'data-value': v, x1: x(v), x2: x(v), y1: y(0), y2: Number(y(0)) + 4 }),
    svg('line', { class: 'tick', 'data-axis': 'y', 'data-value': v, x1: left - 4, x2: x(0), y1: y(v), y2: y(v) }),
    svg('text', { x: x(v), y: height - 4, 'text-anchor': 'middle' }, decimal(v)),
    svg('text', { x: left - 7, y: Number(y(v)) + 3.5, 'text-anchor': 'end' }, decimal(v)),
  ]);

  const lines = SERIES.map((series) => {
    let d = '';
    let pen = 'M';
    for (const point of score.points) {
      if (point[series] == null) {
        pen = 'M';
        continue;
      }
      d += `${pen}${x(point.threshold)} ${y(point[series])} `;
      pen = 'L';
    }
    return svg('path', { class: `series ${series}`, 'data-series': series, d: d.trim() });
  });

  // Labels above the plot; one close to the previous one goes on a second row.
  let previous = null;
  const markers = marks.map((m) => {
    const row = previous && previous.row === 0 && m.threshold - previous.threshold < 0.3 ? 1 : 0;
    previous = { ...m, row };
    const labelY = 10 + row * 11;
    const anchor = m.threshold > 0.85 ? 'end' : m.threshold < 0.15 ? 'start' : 'middle';
    return svg('g', { class: 'marker', 'data-action': m.action, 'data-threshold': m.threshold },
      svg('line', { class: 'marker-line', x1: x(m.threshold), x2: x(m.threshold), y1: labelY + 3, y2: y(0) }),
      svg('text', { x: x(m.threshold), y: labelY, 'text-anchor': anchor }, `${word('actions', m.action)} ${decimal(m.threshold)}`));
  });

  return svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label },
    svg('title', {}, label),
    ticks,
    svg('line', { class: 'axis', x1: x(0), x2: x(1), y1: y(0), y2: y(0) }),
    svg('line', { class: 'axis', x1: x(0), x2: x(0), y1: y(0), y2: y(1) }),
    markers,
    lines);
}

// ---------------------------------------------------------------------------------------------
// Word lists: a policy's banned, suspect and allowed words, stored as its next version by
// PUT /v1/policies/{name}/words and then put in force by …/versions/{version}/activate.

// A text area's entries: one a line, blank lines left out.
const entries = (text) => text.split('\n').map((line) => line.trim()).filter(Boolean);

async function loadWords(name) {
  const policies = await attempt(() => api('/v1/policies'));
  if (!policies) return;
  // A channel without a policy of its own shows the default's lists: those it uses now.
  const inherits = !policies.active.some((p) => p.name === name);
  const shown = await attempt(() => api(`/v1/policies/${encodeURIComponent(inherits ? 'default' : name)}`));
  if (!shown) return;
  const names = policies.active.map((p) => p.name);
  state.words = { name, version: shown.version, inherits, names, stored: null };
  const form = $('#words-form');
  for (const list of LISTS) form.elements[list].value = shown.policy.words[list].join('\n');
  form.elements.banned_action.value = shown.policy.words.banned_action;
  form.elements.note.value = '';
  $('#words-pick').elements.channel.value = '';
  show('words');
  renderWords();
  // The select keeps the focus when the policy was chosen there; otherwise the title takes it.
  if (document.activeElement !== $('#words-pick').elements.policy) $('#words-title').focus();
}

function renderWords() {
  const { name, version, inherits, names, stored } = state.words;
  const options = names.map((n) => h('option', { value: n }, n));
  if (inherits) options.push(h('option', { value: name }, `${name} (${t('w_new')})`));
  const select = $('#words-pick').elements.policy;
  select.replaceChildren(...options);
  select.value = name;
  $('#words-status').textContent = t(inherits ? 'w_inherits' : 'w_in_force', { name, version });
  $('#words-stored').hidden = !stored;
  $('#words-stored-text').textContent = stored ? t('w_stored', { name, version: stored }) : '';
}

async function saveWords() {
  if (state.busy) return;
  state.busy = true;
  const { name } = state.words;
  const form = $('#words-form');
  const body = { banned_action: form.elements.banned_action.value };
  for (const list of LISTS) body[list] = entries(form.elements[list].value);
  const note = form.elements.note.value.trim();
  const path = `/v1/policies/${encodeURIComponent(name)}/words${note ? `?${new URLSearchParams({ note })}` : ''}`;
  try {
    const stored = await attempt(() => api(path, { method: 'PUT', body }), t('w_forbidden'));
    if (!stored) return;
    quiet();
    state.words.stored = stored.version;
    renderWords();
    $('#words-activate').focus();
  } finally {
    state.busy = false;
  }
}

async function activateWords() {
  if (state.busy) return;
  state.busy = true;
  const { name, stored } = state.words;
  try {
    const path = `/v1/policies/${encodeURIComponent(name)}/versions/${stored}/activate`;
    const done = await attempt(() => api(path, { method: 'POST', body: {} }), t('w_forbidden'));
    if (!done) return;
    await loadWords(name);
    say(t('w_activated', { name, version: done.version }), 'ok');
  } finally {
    state.busy = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Incidents: many authors reporting one problem. Renamed, closed, opened again and merged
// through POST /v1/incidents/{id} and …/merge.

async function loadIncidents(status) {
  const query = status === 'all' ? '' : `&status=${status}`;
  const page = await attempt(() => api(`/v1/incidents?limit=200${query}`));
  if (!page) return;
  state.incidents = { status, items: page.items };
  $('#incidents-status').value = status;
  show('incidents');
  renderIncidents();
  if (!document.activeElement?.closest('#incidents-view')) $('#incidents-title').focus();
}

function renderIncidents() {
  const { items } = state.incidents;
  const open = items.filter((i) => i.status === 'open');
  $('#incidents-empty').hidden = items.length > 0;
  $('#incidents-list').replaceChildren(...items.map((i) => incidentCard(i, open)));
}

function incidentCard(incident, open) {
  const when = (at) => new Date(at).toLocaleString(state.lang === 'fi' ? 'fi-FI' : 'en-GB');
  const status = incident.status === 'merged'
    ? t('i_merged_into', { id: incident.merged_into })
    : t(`i_${incident.status}`);
  const parts = [
    h('h2', {}, `${incident.title} `, h('span', { class: `badge ${incident.status}` }, status), h('span', { class: 'muted' }, ` #${incident.id}`)),
    h('p', {}, t('i_reports', { reports: incident.reports, authors: incident.authors, cases: incident.cases }),
      ' · ', t('i_seen', { first: when(incident.first_seen), last: when(incident.last_seen) })),
    h('p', { class: 'muted' }, t('i_words', { words: incident.words.join(', ') }),
      incident.channels.length ? ` · ${t('i_channels', { channels: incident.channels.join(', ') })}` : ''),
    h('p', {}, h('a', { href: `#/cases?status=all&incident=${incident.id}` }, t('i_cases'))),
  ];
  if (incident.status !== 'merged') {
    const rename = h('form', { class: 'inline rename' },
      h('label', {}, h('span', {}, t('i_title')), h('input', { name: 'title', type: 'text', value: incident.title, maxlength: '200', required: '' })),
      h('button', { type: 'submit' }, t('i_rename')));
    rename.addEventListener('submit', (e) => {
      e.preventDefault();
      changeIncident(incident.id, { title: rename.elements.title.value.trim() });
    });
    const toggle = h('button', { type: 'button', class: 'toggle' }, t(incident.status === 'open' ? 'i_close' : 'i_reopen'));
    toggle.addEventListener('click', () => changeIncident(incident.id, { status: incident.status === 'open' ? 'closed' : 'open' }));
    parts.push(h('div', { class: 'actions' }, rename, toggle));
    const others = open.filter((o) => o.id !== incident.id);
    if (others.length) {
      const merge = h('form', { class: 'inline merge' },
        h('label', {}, h('span', {}, t('i_into')),
          h('select', { name: 'into' }, ...others.map((o) => h('option', { value: String(o.id) }, `#${o.id} ${o.title}`)))),
        h('button', { type: 'submit' }, t('i_merge')));
      merge.addEventListener('submit', (e) => {
        e.preventDefault();
        mergeIncident(incident.id, Number(merge.elements.into.value));
      });
      parts.push(merge);
    }
  }
  return h('article', { class: 'incident', 'data-id': String(incident.id) }, ...parts);
}

async function changeIncident(id, body) {
  if (state.busy) return;
  state.busy = true;
  try {
    const done = await attempt(() => api(`/v1/incidents/${id}`, { method: 'POST', body }));
    if (!done) return;
    await loadIncidents(state.incidents.status);
    say(t('i_done', { id, status: t(`i_${done.status}`) }), 'ok');
  } finally {
    state.busy = false;
  }
}

async function mergeIncident(id, into) {
  if (state.busy) return;
  state.busy = true;
  try {
    const done = await attempt(() => api(`/v1/incidents/${id}/merge`, { method: 'POST', body: { into } }));
    if (!done) return;
    await loadIncidents(state.incidents.status);
    say(t('i_done', { id, status: t('i_merged_into', { id: into }) }), 'ok');
  } finally {
    state.busy = false;
  }
}

// ---------------------------------------------------------------------------------------------
// Trends: GET /v1/stats by intent, by action and by sentiment, drawn as lines per bucket, with
// the incidents opened and the reply-time attainment.

const TREND_LINES = 6; // the largest series drawn; the rest are in the chart's description

async function loadTrends(range) {
  state.trends = { range, data: state.trends?.data };
  const form = $('#trends-range');
  form.elements.since.value = range.since ?? '';
  form.elements.until.value = range.until ?? '';
  form.elements.bucket.value = range.bucket;
  // One range for the three calls, so their buckets are the same ones.
  const day = (d, later = 0) => {
    const at = new Date(`${d}T00:00:00Z`);
    at.setUTCDate(at.getUTCDate() + later);
    return at.toISOString();
  };
  const span = range.bucket === 'hour' ? 48 * 3600e3 : 7 * 86400e3;
  const until = range.until ? day(range.until, 1) : new Date().toISOString();
  const since = range.since ? day(range.since) : new Date(Date.parse(until) - span).toISOString();
  const query = (by) => `/v1/stats?${new URLSearchParams({ bucket: range.bucket, by, since, until })}`;
  const loaded = await attempt(() => Promise.all(['intent', 'action', 'sentiment'].map((by) => api(query(by)))));
  if (!loaded) return;
  state.trends.data = loaded;
  show('trends');
  renderTrends();
  if (!document.activeElement?.closest('#trends-view')) $('#trends-title').focus();
}

function renderTrends() {
  const [intent, action, sentiment] = state.trends.data;
  const totals = intent.buckets.map((_, i) => sentiment.series.reduce((sum, s) => sum + s.counts[i], 0));
  const shares = sentiment.series.map((s) => ({
    ...s,
    counts: s.counts.map((c, i) => (totals[i] ? c / totals[i] : null)),
  }));
  const incidents = [{ key: 'incidents', total: intent.incidents.reduce((a, b) => a + b, 0), counts: intent.incidents }];
  const charts = intent.cases === 0
    ? [h('p', { class: 'muted' }, t('g_empty'))]
    : [
      trendChart('g_intent', intent.buckets, intent.series.map((s) => ({ ...s, name: word('intents', s.key) }))),
      trendChart('g_action', action.buckets, action.series.map((s) => ({ ...s, name: word('actions', s.key) }))),
      trendChart('g_sentiment', sentiment.buckets, shares.map((s) => ({ ...s, name: word('sentiments', s.key) })), 1),
      trendChart('g_incidents', intent.buckets, incidents.map((s) => ({ ...s, name: t('g_incidents') }))),
    ];
  $('#trend-charts').replaceChildren(...charts);
  const percent = (v) => (v == null ? t('g_none') : `${Math.round(v * 100)} %`);
  $('#reply-times tbody').replaceChildren(...intent.reply_times.map((r) => h('tr', {},
    h('td', {}, word('routes', r.route)),
    h('td', {}, word('priorities', r.priority)),
    h('td', { class: 'num' }, r.answered_in_time),
    h('td', { class: 'num' }, r.answered_late),
    h('td', { class: 'num' }, r.overdue),
    h('td', { class: 'num' }, percent(r.attainment)))));
}

// One chart: x the buckets, y from 0 to the largest count (or `top`), a line per series (the
// largest few, each its own colour), a legend of the drawn ones.
const TREND_CHART = { width: 320, height: 164, left: 46, right: 12, top: 30, bottom: 20 };

function trendChart(title, buckets, series, top) {
  const { width, height, left, right, top: pad, bottom } = TREND_CHART;
  const drawn = series.slice(0, TREND_LINES);
  const max = top ?? Math.max(1, ...drawn.flatMap((s) => s.counts.filter((c) => c != null)));
  const step = buckets.length > 1 ? (width - left - right) / (buckets.length - 1) : 0;
  const x = (i) => (left + i * step).toFixed(1);
  const y = (v) => (height - bottom - (v / max) * (height - pad - bottom)).toFixed(1);
  const day = (at) => (state.trends.range.bucket === 'hour' ? `${at.slice(0, 13).replace('T', ' ')}:00` : at.slice(0, 10));
  const label = t('g_chart', {
    title: t(title),
    from: day(buckets[0]),
    to: day(buckets[buckets.length - 1]),
    series: series.map((s) => `${s.name} ${top ? '' : s.total}`.trim()).join(', '),
  });
  const lines = drawn.map((s, n) => {
    let d = '';
    let pen = 'M';
    s.counts.forEach((c, i) => {
      if (c == null) {
        pen = 'M';
        return;
      }
      d += `${pen}${x(i)} ${y(c)} `;
      pen = 'L';
    });
    // A dot at each point, so a lone one (a single busy hour) shows too.
    const dots = s.counts.map((c, i) => (c == null ? null
      : svg('circle', { class: `dot s${n}`, cx: x(i), cy: y(c), r: 2.2 })));
    return svg('g', { 'data-key': s.key }, svg('path', { class: `trend s${n}`, d: d.trim() }), dots);
  });
  const number = (v) => (top ? `${Math.round(v * 100)}%` : String(v));
  return h('figure', { class: 'trend-chart', 'data-chart': title },
    h('figcaption', {}, t(title)),
    svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': label },
      svg('title', {}, label),
      svg('line', { class: 'grid', x1: left, x2: width - right, y1: y(max), y2: y(max) }),
      svg('line', { class: 'axis', x1: left, x2: width - right, y1: y(0), y2: y(0) }),
      svg('line', { class: 'axis', x1: left, x2: left, y1: y(0), y2: y(max) }),
      svg('text', { x: left - 5, y: Number(y(max)) + 3.5, 'text-anchor': 'end' }, number(max)),
      svg('text', { x: left - 5, y: Number(y(0)) + 3.5, 'text-anchor': 'end' }, number(0)),
      svg('text', { x: left, y: height - 4, 'text-anchor': 'start' }, day(buckets[0])),
      svg('text', { x: width - right, y: height - 4, 'text-anchor': 'end' }, day(buckets[buckets.length - 1])),
      lines),
    h('ul', { class: 'trend-legend' }, drawn.map((s, n) => h('li', { 'data-key': s.key },
      svg('svg', { viewBox: '0 0 20 10', 'aria-hidden': 'true' }, svg('line', { class: `trend s${n}`, x1: 1, y1: 5, x2: 19, y2: 5 })),
      ` ${s.name}`))));
}

// The thresholds, the word lists, the incidents and the trends: u or Esc goes back to the queue.
function backKey(key) {
  if (key !== 'Escape' && key !== 'u') return false;
  go(queueHash());
  return true;
}

// ---------------------------------------------------------------------------------------------
// Keyboard. Nothing fires while typing in a field, with a modifier held, or under the help.

function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  const help = $('#help');
  if (help.open) {
    if (key === '?') {
      help.close();
      e.preventDefault();
    }
    return;
  }
  if (e.target.closest?.('input, textarea, select, [contenteditable]')) {
    if (key === 'Escape' && e.target.matches('input, textarea')) {
      e.target.blur();
      e.preventDefault();
    }
    return;
  }
  if (key === '?') {
    help.showModal();
    e.preventDefault();
    return;
  }
  const keys = { queue: queueKey, case: caseKey, thresholds: backKey, words: backKey, incidents: backKey, trends: backKey }[state.view];
  if (keys?.(key, e)) e.preventDefault();
}

function queueKey(key, e) {
  const onControl = e.target.closest?.('button, a');
  switch (key) {
    case 'j':
    case 'ArrowDown':
      select(state.selected + 1);
      return true;
    case 'k':
    case 'ArrowUp':
      select(state.selected - 1);
      return true;
    case 'Enter':
      if (onControl) return false; // the button or link does its own thing
      // falls through
    case 'o': {
      const c = state.items[state.selected];
      if (c) go(caseHash(c.id));
      return Boolean(c);
    }
    case '/':
      $('#filters [name="q"]').focus();
      return true;
    case 't':
      go(thresholdsHash(state.range));
      return true;
    case 'w':
      go(wordsHash(state.words?.name ?? 'default'));
      return true;
    case 'i':
      go(incidentsHash(state.incidents?.status ?? 'open'));
      return true;
    case 'g':
      go(trendsHash(state.trends?.range ?? { bucket: 'day' }));
      return true;
    default:
      return false;
  }
}

function caseKey(key) {
  if (DECISION_KEYS[key]) {
    decide(DECISION_KEYS[key]);
    return true;
  }
  switch (key) {
    case 'c':
      claim();
      return true;
    case 'n':
      $('#note')?.focus();
      return true;
    case 'Escape':
    case 'u':
      go(queueHash());
      return true;
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Start.

function start() {
  const saved = localStorage.getItem(LANG_STORE);
  const browser = (navigator.language || 'en').toLowerCase().startsWith('fi') ? 'fi' : 'en';
  setLanguage(saved || browser);

  document.addEventListener('keydown', onKey);
  window.addEventListener('hashchange', route);
  for (const button of document.querySelectorAll('[data-lang]')) {
    button.addEventListener('click', () => setLanguage(button.dataset.lang));
  }
  $('#help-button').addEventListener('click', () => $('#help').showModal());
  $('#help-close').addEventListener('click', () => $('#help').close());
  $('#message-close').addEventListener('click', quiet);
  $('#forget-key').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORE);
    state.items = [];
    say(t('key_forgotten'));
    route();
  });
  $('#key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('#key-input').value.trim();
    if (!key) return;
    sessionStorage.setItem(KEY_STORE, key);
    quiet();
    route();
  });
  const filters = $('#filters');
  filters.addEventListener('submit', (e) => {
    e.preventDefault();
    applyFilters();
  });
  filters.addEventListener('change', (e) => {
    if (e.target.matches('select')) applyFilters();
  });
  $('#clear-filters').addEventListener('click', () => {
    for (const name of FILTERS) filters.elements[name].value = '';
    applyFilters();
  });
  $('#load-more').addEventListener('click', loadMore);
  const range = $('#range');
  range.addEventListener('submit', (e) => {
    e.preventDefault();
    go(thresholdsHash({ since: range.elements.since.value, until: range.elements.until.value }));
  });
  $('#clear-range').addEventListener('click', () => go(thresholdsHash({})));
  const pick = $('#words-pick');
  pick.addEventListener('submit', (e) => {
    e.preventDefault();
    go(wordsHash(pick.elements.channel.value.trim() || pick.elements.policy.value));
  });
  pick.elements.policy.addEventListener('change', () => go(wordsHash(pick.elements.policy.value)));
  $('#incidents-status').addEventListener('change', (e) => go(incidentsHash(e.target.value)));
  $('#trends-range').addEventListener('submit', (e) => {
    e.preventDefault();
    const f = e.target.elements;
    go(trendsHash({ since: f.since.value || undefined, until: f.until.value || undefined, bucket: f.bucket.value }));
  });
  $('#words-form').addEventListener('submit', (e) => {
    e.preventDefault();
    saveWords();
  });
  $('#words-activate').addEventListener('click', activateWords);
  route();
}

start();
