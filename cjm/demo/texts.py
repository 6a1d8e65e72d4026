# ruff: noqa: E501
# (prose: long template lines read better unbroken)
"""Text templates for the demo mentions (all written for this project; Finly is fictional).

Every template carries the answer the pipeline should find: the journey stage,
the topic (barrier) and the sentiment it was written with. The generator records
those labels next to the data (``demo/truth/``) so the enrichment and the marts
can be checked against a known truth rather than eyeballed.

The cue words are deliberately ordinary (what people actually write: "виснет",
"не отвечает", "оформил карту", "closing my account") so a keyword/lexicon
classifier has a fair chance, while slang, typos and sarcasm keep it honest.

Placeholders: ``{b}`` brand form, ``{comp}`` competitor (fictional), ``{n}``
small count, ``{h}`` hours, ``{fee}``/``{fee_en}`` a fee, ``{pct}`` a percent,
``{money}`` a sum, ``{city}``, ``{link}`` a finly.app link, ``{partner}``.
"""

from __future__ import annotations

from typing import NamedTuple

# Topic ids (barriers): the demo's vocabulary; "general" means no specific topic.
TOPICS = (
    "price",  # fees, tariffs, cashback, hidden charges
    "response_speed",  # how long transfers / answers / callbacks take
    "support_quality",  # chat, call centre, bots, templated answers
    "delivery",  # card delivery and re-issue
    "app_stability",  # crashes, hangs, login failures, SMS codes
    "usability",  # finding things in the app, onboarding, KYC friction
    "trust",  # licence, blocked accounts, security, "is it legit"
    "general",
)


class T(NamedTuple):
    """One template: its topic, its text and an optional signal (sarcasm, churn, ...)."""

    topic: str
    text: str
    signal: str = ""


# stage -> sentiment -> language -> templates. "churn" is written as its own key to
# keep the texts apart; it is labelled stage "loyalty" with signal "churn" (the
# negative end of loyalty: the journey stages in the config stop at loyalty).
TEMPLATES: dict[str, dict[str, dict[str, list[T]]]] = {
    "awareness": {
        "neutral": {
            "ru": [
                T("general", "Видел рекламу {b} в метро, это вообще кто?"),
                T("general", "Кто-нибудь слышал про {b}? В рабочем чате все обсуждают"),
                T("trust", "{b} это настоящий банк или очередной стартап? лицензия у них есть?"),
                T("price", "Наткнулся на {b}, пишут обслуживание 0 ₽. Где подвох?"),
                T("general", "У {b} новая реклама с енотом, видели? {link}"),
                T("general", "Коллега сказал что перешёл на {b}, надо глянуть что это такое"),
                T("general", "Баннер {b} на Садовом размером с дом 😅"),
                T(
                    "general",
                    "Мне в ленте {n} раза за вечер попалась реклама {b}. Алгоритмы, вы чего",
                ),
                T("general", "Блогер опять рекламирует {b}. Промокод в описании, если кому надо"),
                T("price", "{b} обещает кэшбэк {pct}% на кафе. Реклама или правда?"),
                T("general", "Первый раз слышу про {b}, а у них уже миллион скачиваний"),
                T("general", "{b} спонсирует подкаст про деньги, который я слушаю. Интересно"),
            ],
            "en": [
                T("general", "Saw a {b} ad on the metro, anyone tried them?"),
                T("general", "what is {b}? keep seeing it everywhere"),
                T("general", "{b} seems to be a new banking app, big in {city} apparently"),
                T("trust", "Got a {b} promo in my feed. Is it legit?"),
                T("general", "Heard about {b} on a podcast today"),
                T("price", "{b} says zero monthly fee. what's the catch"),
                T("general", "my coworker won't stop talking about {b} lol"),
            ],
        },
        "positive": {
            "ru": [
                T("general", "Реклама {b} прям зашла, креативно 👍"),
                T("price", "{b} раздаёт кэшбэк {pct}% на кафе и такси, звучит вкусно"),
                T("general", "Классный ролик у {b}, наконец банк без пафоса"),
                T("usability", "Посмотрел обзор {b} на ютубе — интерфейс выглядит очень чисто"),
                T("general", "Енот из рекламы {b} — лучшее, что я видел на этой неделе 🦝"),
            ],
            "en": [
                T(
                    "general",
                    "Love the new {b} ad campaign, finally a bank with a sense of humour 😂",
                ),
                T("price", "{b} {pct}% cashback on cafes?? ok you have my attention"),
                T("usability", "the {b} app looks really slick in the screenshots"),
            ],
        },
        "negative": {
            "ru": [
                T("general", "Реклама {b} уже из утюга вылезает, сколько можно 😤"),
                T("trust", "{b} какие-то мутные, лицензию не нашёл, не доверяю таким"),
                T("trust", "Очередной необанк {b}. Через год закроются, спорим?"),
                T("general", "Опять реклама {b} перед каждым видео, бесит"),
            ],
            "en": [
                T("general", "{b} ads are literally everywhere, getting really annoying"),
                T(
                    "trust",
                    "never heard of {b} before today. not trusting a bank with a raccoon mascot lol",
                ),
            ],
        },
    },
    "consideration": {
        "neutral": {
            "ru": [
                T(
                    "price",
                    "Сколько стоит обслуживание в {b}? На сайте мелким шрифтом что-то непонятное",
                ),
                T(
                    "price",
                    "Сравнил {b} и {comp}: у первых кэшбэк больше, у вторых переводы бесплатные. Думаю",
                ),
                T(
                    "price",
                    "Подскажите, у {b} есть комиссия за снятие наличных в чужих банкоматах?",
                ),
                T("usability", "Кто пользуется {b}, норм приложение? Хочу перейти с {comp}"),
                T(
                    "delivery",
                    "{b} сколько доставляют карту в {city}? Курьером или самому забирать?",
                ),
                T("trust", "А вклады в {b} застрахованы? Стоит ли там держать подушку"),
                T("price", "Премиум у {b} за {fee} в месяц — это вообще окупается?"),
                T("general", "Выбираю между {b} и {comp} для фриланса, что посоветуете?"),
                T(
                    "price",
                    "какие тарифы у {b}? Хочу понять сколько стоит обслуживание если тратить тысяч 30 в месяц",
                ),
                T("usability", "Можно ли в {b} открыть счёт без похода в офис? Нет времени совсем"),
                T("price", "Сравниваю кэшбэк: {b} {pct}%, {comp} 3%. Есть ли лимиты у {b}?"),
            ],
            "en": [
                T("price", "What are the fees at {b}? can't find a clear answer on finly.app"),
                T("price", "comparing {b} vs {comp} for travel, which one has better FX rates?"),
                T("usability", "Does {b} support Apple Pay / Google Pay? thinking about switching"),
                T("delivery", "How long does {b} take to deliver a card to {city}?"),
                T("trust", "Is {b} actually a bank or just an app on top of another bank?"),
                T("price", "how much is {b} premium and is it worth it?"),
            ],
        },
        "positive": {
            "ru": [
                T(
                    "price",
                    "Посчитал — с {b} экономлю около {money} в год на комиссиях. Кажется, беру",
                ),
                T("usability", "Потыкал демо-режим {b}, всё интуитивно. Склоняюсь к ним"),
                T("general", "Все знакомые, кто на {b}, довольны. Видимо, надо пробовать"),
            ],
            "en": [
                T(
                    "price",
                    "{b} has no monthly fee and {pct}% cashback. switching seems like a no-brainer",
                ),
                T(
                    "usability",
                    "played with the {b} demo, the UX is super clean. leaning towards it",
                ),
            ],
        },
        "negative": {
            "ru": [
                T(
                    "price",
                    "Зашёл посмотреть тарифы {b} — {fee} в месяц за премиум?! {comp} даёт то же бесплатно",
                ),
                T("trust", "Отзывы на {b} какие-то страшные, про блокировки счетов. Пожалуй, мимо"),
                T(
                    "response_speed",
                    "Оставил заявку в {b} на консультацию {n} дня назад, до сих пор никто не позвонил",
                ),
                T(
                    "price",
                    "У {b} кэшбэк только в выбранных категориях и с лимитом. Маркетинг, не более",
                ),
            ],
            "en": [
                T("price", "{b} premium is {fee_en}/month?? lol no, {comp} is free"),
                T(
                    "trust",
                    "read the {b} reviews on the app store, lots of people complaining about frozen accounts. hmm",
                ),
                T("response_speed", "requested a callback from {b} {n} days ago. still waiting"),
            ],
        },
    },
    "purchase": {
        "positive": {
            "ru": [
                T("general", "Оформил карту {b} за 5 минут прямо в приложении 🔥"),
                T("delivery", "Карту {b} привезли на следующий день, курьер вежливый. Приятно"),
                T(
                    "usability",
                    "Открыл счёт в {b}, проверка паспорта заняла минуты три. Вот это сервис",
                ),
                T("price", "Взял премиум {b} по акции, первый месяц бесплатно 🎉"),
                T(
                    "delivery",
                    "Доставка карты {b} в {city} — 2 дня. Металлическая, тяжёленькая, красивая",
                ),
                T("general", "Наконец-то перешла на {b}, оформление без единого звонка 👌"),
            ],
            "en": [
                T("general", "just opened an account with {b}, took like 5 minutes 🙌"),
                T("delivery", "My {b} card arrived today! the metal one looks sick"),
                T("price", "signed up for {b} premium, first month free. let's see"),
            ],
        },
        "neutral": {
            "ru": [
                T("general", "Ну всё, завёл себе {b}. Посмотрим что будет"),
                T("delivery", "Заказал карту {b}, обещают привезти в течение {n} дней"),
                T("general", "Оформила {b} ради кэшбэка, потом отпишусь как оно"),
                T("usability", "Открыл счёт {b}, теперь жду карту. Пока плачу виртуальной"),
                T("delivery", "Курьер {b} привезёт карту завтра с 10 до 18. Сижу дома, жду"),
            ],
            "en": [
                T("general", "ok I caved and signed up for {b}"),
                T("delivery", "ordered a {b} card, they say delivery in {n} business days"),
                T(
                    "usability",
                    "opened a {b} account, using the virtual card until the real one comes",
                ),
            ],
        },
        "negative": {
            "ru": [
                T(
                    "delivery",
                    "Заказал карту {b} {n} дней назад, курьер так и не приехал. Статус 'в пути' 🙃",
                ),
                T("usability", "Регистрация в {b} — квест: три раза отклоняли фото паспорта"),
                T(
                    "delivery",
                    "Курьер {b} перенёс доставку уже {n}-й раз. Я на работе, вы серьёзно?",
                ),
                T(
                    "price",
                    "При оформлении {b} навязали страховку за {fee}. Еле нашёл где отключить",
                ),
            ],
            "en": [
                T(
                    "delivery",
                    "ordered my {b} card {n} days ago and it's still 'being prepared'. hello??",
                ),
                T("usability", "{b} KYC rejected my passport photo three times. great start"),
            ],
        },
    },
    "usage": {
        "positive": {
            "ru": [
                T("app_stability", "Полгода на {b}, приложение ни разу не упало. Уважение"),
                T(
                    "response_speed",
                    "Перевод через {b} дошёл за секунды, даже не успел закрыть приложение",
                ),
                T(
                    "support_quality",
                    "Поддержка {b} ответила за 2 минуты и сразу решила вопрос. Так можно было?",
                ),
                T("usability", "Обожаю аналитику трат в {b}, наконец понял куда уходят деньги 😅"),
                T("price", "Кэшбэк от {b} пришёл ровно в срок, {money} за месяц на кофе ☕"),
                T("usability", "В {b} сделали тёмную тему, спасибо что услышали 🖤"),
                T(
                    "support_quality",
                    "Девушка из поддержки {b} вернула ошибочное списание за 10 минут. Спасибо!",
                ),
                T(
                    "response_speed",
                    "Пополнил {b} с карты другого банка — моментально и без комиссии",
                ),
            ],
            "en": [
                T(
                    "response_speed",
                    "transfer via {b} landed instantly. this is how banking should work",
                ),
                T("support_quality", "{b} support sorted my issue in 3 minutes, impressed"),
                T("usability", "the spending analytics in {b} are genuinely useful"),
                T("price", "paid abroad with {b} in {city}, great rate and no fee 👌"),
            ],
        },
        "neutral": {
            "ru": [
                T("usability", "Как в {b} выгрузить выписку за год? Нужна для визы"),
                T("price", "{b} подскажите, перевод на карту другого банка сколько стоит?"),
                T("usability", "Обновил {b}, поменяли главный экран. Привыкаю"),
                T(
                    "response_speed",
                    "Интересно, почему в {b} перевод по номеру телефона идёт дольше, чем по номеру карты",
                ),
                T("delivery", "Перевыпускаю карту {b}, срок вышел. Доставка опять курьером"),
                T("support_quality", "Написал в чат {b} по поводу лимитов, жду ответа"),
                T("usability", "Где в {b} поменять пин-код? Вроде было в настройках карты"),
                T("price", "В {b} поменяли категории кэшбэка на октябрь, кто уже выбрал?"),
            ],
            "en": [
                T("usability", "how do I export a statement in {b}? need it for my landlord"),
                T("usability", "{b} updated the app, the home screen looks different now"),
                T("price", "anyone know {b}'s daily transfer limit and fee above it?"),
                T("support_quality", "messaged {b} support about my limits, waiting to hear back"),
            ],
        },
        "negative": {
            "ru": [
                T("app_stability", "Приложение {b} опять виснет на входе. Третий раз за неделю 🤬"),
                T("app_stability", "{b} после обновления вылетает при открытии. Верните как было"),
                T(
                    "support_quality",
                    "Поддержка {b} не отвечает уже {h} часов. Я просто хочу разблокировать карту",
                ),
                T(
                    "support_quality",
                    "В чате {b} отвечает бот и ходит по кругу. Живого оператора не дождаться",
                ),
                T("response_speed", "Перевод в {b} шёл {n} дня. {n} ДНЯ. В 2026 году"),
                T("price", "{b} списали {fee} за 'обслуживание', хотя обещали бесплатно. Это как?"),
                T(
                    "price",
                    "Скрытые комиссии в {b}: за снятие наличных {pct}%, нигде об этом не писали",
                ),
                T("usability", "В {b} невозможно найти, где меняется лимит. Десять минут тыкал"),
                T(
                    "trust",
                    "{b} заблокировали счёт без объяснений, требуют какие-то справки. Деньги заморожены",
                ),
                T("delivery", "Перевыпуск карты {b} — жду третью неделю. Без карты как без рук"),
                T(
                    "response_speed",
                    "Спасибо {b}, перевод идёт всего {n}-й день, вы лучшие 👏👏",
                    "sarcasm",
                ),
                T(
                    "support_quality",
                    "Обожаю {b}: поддержка отвечает через сутки и шаблоном. Сервис 10/10",
                    "sarcasm",
                ),
                T(
                    "app_stability",
                    "{b} не приходит смс-код для входа, сижу без доступа к своим деньгам",
                ),
                T("app_stability", "У {b} опять что-то лежит? Приложение грузится бесконечно"),
                T(
                    "response_speed",
                    "Кэшбэк в {b} обещали до 5 числа, сегодня уже {n}-е. Где деньги?",
                ),
                T(
                    "support_quality",
                    "Оператор {b} просто закрыл чат, не ответив. Отличная поддержка, нечего сказать",
                    "sarcasm",
                ),
            ],
            "en": [
                T("app_stability", "{b} app keeps crashing on login. third time this week"),
                T("response_speed", "transfer took 3 days with {b}. three. days."),
                T(
                    "support_quality",
                    "{b} support not replying for {h} hours. my card is blocked and I'm abroad",
                ),
                T(
                    "price",
                    "{b} charged me a {fee_en} 'service fee' that was supposed to be free??",
                ),
                T(
                    "support_quality",
                    "love waiting {h} hours for {b} support to send me a copy-paste answer. great job 👏",
                    "sarcasm",
                ),
                T("usability", "can't find how to change my PIN in {b}, the menus are a maze"),
                T("trust", "{b} froze my account and asks for documents. no explanation. not cool"),
                T("app_stability", "is {b} down again? app just spins forever"),
            ],
        },
    },
    "loyalty": {
        "positive": {
            "ru": [
                T("general", "Пользуюсь {b} уже 3 года, ни разу не пожалел. Советую"),
                T("price", "Продлил премиум в {b}, кэшбэк окупает подписку с запасом"),
                T("general", "Всем советую {b}, особенно если часто путешествуете ✈️"),
                T("price", "Перетащил в {b} всю семью, теперь переводы друг другу бесплатно"),
                T(
                    "general",
                    "{b} — единственный банк, про который не стыдно рассказать друзьям 😄 советую, вот ссылка {link}",
                ),
                T("support_quality", "Два года с {b}, поддержка ни разу не подвела. Рекомендую"),
            ],
            "en": [
                T("general", "been with {b} for 2 years now, wouldn't switch. highly recommend"),
                T("price", "renewed {b} premium, the cashback more than pays for it"),
                T(
                    "general",
                    "recommending {b} to everyone who asks me about banking apps. referral link: {link}",
                ),
            ],
        },
        "neutral": {
            "ru": [
                T("general", "Третий год с {b}. Бывает всякое, но в целом ок"),
                T("price", "Продлил подписку {b}. Посмотрим, что дадут в новом сезоне"),
            ],
            "en": [
                T("price", "renewed my {b} subscription for another year"),
            ],
        },
        "negative": {
            "ru": [
                T("usability", "Был фанатом {b} два года, но последние обновления всё портят"),
            ],
            "en": [
                T(
                    "usability",
                    "loyal {b} user since launch but the recent changes are making me reconsider",
                ),
            ],
        },
    },
    "churn": {
        "negative": {
            "ru": [
                T("app_stability", "Всё, ушёл из {b} в {comp}. Надоели зависания", "churn"),
                T("price", "Закрываю счёт в {b}. Комиссии выросли, поддержка никакая", "churn"),
                T(
                    "general",
                    "Ушёл в другой банк. {b}, спасибо за три года, но дальше без меня",
                    "churn",
                ),
                T("trust", "Удалил {b}. После блокировки счёта доверия ноль", "churn"),
                T(
                    "price",
                    "Перевёл всё в {comp}, в {b} осталась только карта для подписок, скоро закрою",
                    "churn",
                ),
            ],
            "en": [
                T("price", "closing my {b} account. fees went up and support is a joke", "churn"),
                T(
                    "app_stability",
                    "switched from {b} to {comp}. sorry, the app crashes were too much",
                    "churn",
                ),
                T("general", "done with {b}. moving my money elsewhere", "churn"),
            ],
        },
        "neutral": {
            "ru": [
                T("usability", "Как закрыть счёт в {b}? Не могу найти в приложении", "churn"),
            ],
            "en": [
                T("usability", "how do I close my {b} account? asking for a friend 👀", "churn"),
            ],
        },
    },
}

# The planted incident (see demo/README.md): app login fails, cards are declined,
# support does not answer. Written only for that window.
INCIDENT: dict[str, list[T]] = {
    "ru": [
        T("app_stability", "{b} не пускает в приложение, пишет 'ошибка 503'. У всех так?"),
        T(
            "app_stability",
            "Карту {b} отклоняют на кассе, в приложение зайти не могу. Что происходит??",
        ),
        T(
            "support_quality",
            "Поддержка {b} молчит уже час, карта заблокирована, стою в магазине с полной тележкой 🤬",
        ),
        T("app_stability", "@finlyapp у вас сбой? Не могу войти, смс не приходит"),
        T("app_stability", "Лежит {b}. Ни войти, ни перевести. Зарплата там 😭"),
        T("support_quality", "Дозвониться в {b} невозможно, 40 минут на линии, потом сброс"),
        T("app_stability", "У {b} упало всё: приложение, оплата картой, чат. Отличная среда"),
        T(
            "response_speed",
            "В чате {b} 'оператор ответит в течение 2 минут' висит уже полтора часа",
        ),
        T(
            "app_stability",
            "Карта {b} заблокирована, в приложении бесконечная загрузка. Верните мои деньги",
        ),
        T("support_quality", "{b}, вы там живые? Ни одного ответа ни в чате, ни по телефону"),
        T(
            "app_stability",
            "Пытаюсь оплатить такси картой {b} — отказ. Зайти в приложение — ошибка. Супер",
        ),
        T("app_stability", "не работает {b} с утра. кто знает когда починят?"),
        T(
            "response_speed",
            "Час жду ответа от {b}. За это время можно было открыть счёт в другом банке",
        ),
        T("app_stability", "{b} выкинул из приложения и не пускает обратно. Пароль верный 100%"),
        T(
            "support_quality",
            "Бот {b} на всё отвечает 'мы уже решаем проблему'. Какую, скажите хоть",
        ),
    ],
    "en": [
        T("app_stability", "{b} app won't let me log in, error 503. anyone else?"),
        T("app_stability", "my {b} card got declined at the store and the app is down. wtf"),
        T("support_quality", "{b} support not answering for an hour and my card is blocked. great"),
        T("app_stability", "is {b} down?? can't log in, no SMS code"),
        T(
            "response_speed",
            "been in the {b} chat queue for 90 minutes. 'an agent will reply shortly' lol",
        ),
        T("app_stability", "{b} outage right now, payments failing, login broken"),
        T("support_quality", "called {b} 5 times, hung up on every time. what is going on"),
    ],
}

# Rows a listening tool matched on the keywords that are not about the brand: the
# config's `exclude` list must drop them. "Кафе Финли" / "Finly Cafe" (a coffee shop
# in Kazan) matches the keyword as a whole word, so only the exclusion stops it;
# "ФинЛидер" and "Finlyandia" contain it only as a substring (tools that match
# substrings pick them up; whole-word matching never does).
OFF_BRAND: dict[str, list[str]] = {
    "ru": [
        "Зашли с подругой в кафе Финли на Баумана, раф на кокосовом — огонь ☕",
        "Кафе Финли закрывается на ремонт до ноября 😢 где теперь завтракать",
        "кто знает, кафе финли работает по выходным?",
        "В кафе Финли новое осеннее меню, тыквенный суп рекомендую",
        "Записался на курс ФинЛидер по личным финансам, первое занятие в четверг",
        "Горящий тур #finlyandia2026 на выходные: Хельсинки + сауна, 3 дня",
    ],
    "en": [
        "Finly Cafe in Kazan has the best cheesecake, fight me",
        "Working from Finly Cafe today, wifi is decent and the flat white is great",
        "Finlyandia Hotel in Lappeenranta: honest review, breakfast was great",
    ],
}

OPENERS = {
    "ru": [
        "",
        "",
        "",
        "",
        "Ребят, ",
        "Короче, ",
        "Вопрос: ",
        "Так, ",
        "ну ",
        "Блин, ",
        "Эх, ",
        "Хм, ",
    ],
    "en": ["", "", "", "", "ok so ", "PSA: ", "honestly ", "hmm ", "so ", "lol "],
}
CLOSERS = {
    "ru": {
        "positive": ["", "", " 👍", " 🔥", " 😊", " ❤️", " Рекомендую", " #финли", " 10/10"],
        "neutral": ["", "", "", " 🤔", " Кто знает?", " #финли", " #банки", " Кто сталкивался?"],
        "negative": [
            "",
            "",
            " 😡",
            " 🤬",
            " 😤",
            " #финли",
            " Бесит",
            " Позор",
            " Кто сталкивался?",
        ],
    },
    "en": {
        "positive": ["", "", " 👍", " 🔥", " 🙌", " #fintech", " 10/10", " #finly"],
        "neutral": ["", "", "", " 🤔", " anyone?", " #fintech", " #finly"],
        "negative": ["", "", " 😡", " 🙄", " #fail", " #finly", " smh", " unacceptable"],
    },
}
# Forum posts run longer: a follow-up sentence, sometimes an update on a new line.
FORUM_TAILS = {
    "ru": {
        "positive": [
            " Пишу, чтобы уравновесить негатив в соседних темах.",
            " Не реклама, просто доволен.",
        ],
        "neutral": [
            " Поиск по форуму не помог.",
            " Может кто сталкивался?",
            "\nUPD: нашёл сам, в настройках.",
        ],
        "negative": [
            " Пишу сюда, потому что в чате бесполезно.",
            "\nUPD: так и не ответили.",
            " Может, есть контакты живых людей?",
        ],
    },
    "en": {
        "positive": [" Not an ad, just a happy customer."],
        "neutral": [" Searched the forum, found nothing.", "\nEDIT: found it in settings."],
        "negative": [" Posting here since the chat is useless.", "\nEDIT: still no reply."],
    },
}

BRAND_FORMS = {
    "ru": [
        ("Финли", 40),
        ("Finly", 25),
        ("финли", 12),
        ("@finlyapp", 10),
        ("ФИНЛИ", 3),
        ("#финли", 10),
    ],
    "en": [("Finly", 60), ("@finlyapp", 20), ("finly", 15), ("FINLY", 5)],
}
COMPETITORS = {
    "ru": ["Ладья Банк", "Кэшмир", "Золото Банк", "Монетто"],
    "en": ["Ladya", "Cashmir", "Zolto", "Monetto"],
}
CITIES = {
    "ru": ["Москву", "Казань", "Екб", "Новосиб", "Питер", "Самару", "Краснодар"],
    "en": ["Tbilisi", "Belgrade", "Yerevan", "Almaty", "Istanbul"],
}
FEES = ["199 ₽", "299 ₽", "99 рублей", "149 р", "390 ₽"]
FEES_EN = ["$3.99", "€4", "299 rub", "$5"]
MONEY = ["1 200 ₽", "3 400 р", "800 руб", "2 150 ₽", "5к"]
PARTNERS = [
    "маркетплейсом Полка",
    "сервисом такси Мигом",
    "авиакомпанией Небо",
    "сетью кофеен Зерно",
]

EMOJI = {
    "positive": ["🔥", "👍", "😍", "🎉"],
    "neutral": ["🤔", "👀", ""],
    "negative": ["😡", "🤬", "😤", "🙄"],
}

# Authors and handles: invented names, no real people.
RU_FIRST_F = [
    "Анна",
    "Мария",
    "Ольга",
    "Екатерина",
    "Наталья",
    "Юлия",
    "Ксения",
    "Елена",
    "Софья",
    "Вера",
    "Алина",
    "Дарья",
]
RU_FIRST_M = [
    "Дмитрий",
    "Алексей",
    "Иван",
    "Сергей",
    "Павел",
    "Артём",
    "Михаил",
    "Никита",
    "Глеб",
    "Тимур",
    "Роман",
    "Кирилл",
]
# Masculine forms; the feminine adds "а" (all end in -ов/-ев).
RU_LAST = [
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Волков",
    "Морозов",
    "Лебедев",
    "Козлов",
    "Новиков",
    "Соколов",
    "Фёдоров",
    "Орлов",
    "Зайцев",
    "Белов",
    "Громов",
    "Тихонов",
    "Ершов",
]
HANDLE_PARTS = [
    "masha",
    "dima",
    "lex",
    "olya",
    "vanya",
    "kate",
    "serg",
    "nata",
    "pasha",
    "yulia",
    "tema",
    "ksu",
    "misha",
    "lena",
    "nik",
    "sonya",
    "gleb",
    "vera",
    "timur",
    "alina",
    "alex",
    "sam",
    "jess",
    "mike",
    "emma",
    "leo",
    "zoe",
    "max",
    "kit",
    "ray",
]
HANDLE_SUFFIX = [
    "",
    "_",
    "_spb",
    "_msk",
    "87",
    "92",
    "2001",
    "_x",
    "_dev",
    "_k",
    "_in_tbilisi",
    "_money",
]
TG_CHANNELS = {
    "ru": [
        "Деньги без паники",
        "Финтех за кофе",
        "Банки и люди",
        "Кэшбэк-хантеры",
        "Чат релокантов",
        "Фрилансеры RU",
        "Карты и переводы",
        "Тбилиси: свои",
    ],
    "en": ["Expats in Tbilisi", "Digital Nomads Belgrade", "Fintech Chat EN", "Remote Work Money"],
}
FORUM_NICKS = [
    "kotik_77",
    "Andrey_Spb",
    "finance_guru",
    "Babushka_online",
    "lenivec",
    "Skeptik",
    "DenisK",
    "tanya_t",
    "old_school",
    "nomad_dev",
]

# Media: outlets (fictional, on reserved .example domains), their time zone and language.
OUTLETS = [
    ("ФинВести", "finvesti.example", "Europe/Moscow", "ru", 18),
    ("Деньги Daily", "dengi-daily.example", "Europe/Moscow", "ru", 14),
    ("Рынок сегодня", "rynok-today.example", "Europe/Moscow", "ru", 12),
    ("Банковский обозреватель", "bank-review.example", "Europe/Moscow", "ru", 10),
    ("Городские новости Казани", "kazan-news.example", "Europe/Moscow", "ru", 5),
    ("Tech Pulse RU", "techpulse.example", "Europe/Moscow", "ru", 9),
    ("Fintech Weekly", "fintechweekly.example", "Europe/London", "en", 8),
    ("Emerging Markets Wire", "emwire.example", "UTC", "en", 6),
]


class Article(NamedTuple):
    """A media story: who reprints it is decided by the generator."""

    stage: str
    topic: str
    sentiment: str
    title: str
    summary: str


# News stories pinned to dates (the demo's storyline), then evergreen coverage.
# {date} is the local publication date in the outlet's language.
NEWS: dict[str, dict[str, list[Article]]] = {
    "2026-09-03": {
        "ru": [
            Article(
                "awareness",
                "general",
                "positive",
                "Финли привлёк {round} на развитие приложения",
                "Финтех-сервис Финли закрыл раунд инвестиций и обещает за год удвоить число клиентов. "
                "Деньги пойдут на разработку и маркетинг.",
            ),
        ],
        "en": [
            Article(
                "awareness",
                "general",
                "positive",
                "Banking app Finly raises {round_en}",
                "Finly, a mobile-first banking app popular with freelancers, closed a new funding round "
                "and plans to double its customer base within a year.",
            ),
        ],
    },
    "2026-09-15": {
        "ru": [
            Article(
                "awareness",
                "general",
                "neutral",
                "Финли запустил рекламную кампанию с енотом",
                "Финли начал крупнейшую рекламную кампанию: ролики на ТВ, в метро и у блогеров. "
                "Главный герой — енот, который 'ничего не прячет', включая комиссии.",
            ),
        ],
        "en": [
            Article(
                "awareness",
                "general",
                "neutral",
                "Finly bets on a raccoon in its first big ad push",
                "The fintech app Finly launched a nationwide campaign across TV, metro and influencers.",
            ),
        ],
    },
    "2026-09-22": {
        "ru": [
            Article(
                "consideration",
                "price",
                "negative",
                "Финли поднимает цену подписки Премиум",
                "С 1 октября подписка Финли Премиум подорожает до 299 ₽ в месяц. Клиенты в соцсетях "
                "недовольны: сервис раньше позиционировал себя как бесплатный.",
            ),
        ],
        "en": [
            Article(
                "consideration",
                "price",
                "negative",
                "Finly raises Premium price",
                "Finly's Premium subscription will cost more from October; users on social media are unhappy.",
            ),
        ],
    },
    "2026-10-01": {
        "ru": [
            Article(
                "loyalty",
                "price",
                "positive",
                "Финли и {partner_short} запускают совместный кэшбэк",
                "Клиенты Финли будут получать повышенный кэшбэк до 10% у партнёра. Акция продлится до конца года.",
            ),
        ],
        "en": [],
    },
    "2026-10-14": {
        "ru": [
            Article(
                "usage",
                "app_stability",
                "negative",
                "Клиенты Финли пожаловались на сбой в приложении",
                "В среду утром пользователи Финли не могли войти в приложение и оплатить покупки картой. "
                "Поддержка не справлялась с потоком обращений. В компании заявили, что работа восстановлена.",
            ),
            Article(
                "usage",
                "app_stability",
                "neutral",
                "Финли: сбой устранён, платежи проходят в штатном режиме",
                "Финли сообщил о восстановлении сервисов после утреннего сбоя. Причина — ошибка при "
                "обновлении системы авторизации. Компания обещает компенсации.",
            ),
        ],
        "en": [
            Article(
                "usage",
                "app_stability",
                "neutral",
                "Finly restores service after morning outage",
                "Finly customers were unable to log in or pay by card for several hours on Wednesday. "
                "The company blamed a faulty update of its login system.",
            ),
        ],
    },
    "2026-10-15": {
        "ru": [
            Article(
                "usage",
                "trust",
                "neutral",
                "Финли компенсирует клиентам вчерашний сбой",
                "Финли начислит пострадавшим клиентам по 500 ₽ и бесплатный месяц Премиума. "
                "Эксперты считают, что сбой ударил по доверию к необанкам.",
            ),
        ],
        "en": [],
    },
    "2026-10-20": {
        "ru": [
            Article(
                "usage",
                "usability",
                "neutral",
                "Финли выпустил пятую версию приложения",
                "В новой версии Финли переделан главный экран, появились семейные счета и тёмная тема.",
            ),
        ],
        "en": [
            Article(
                "usage",
                "usability",
                "neutral",
                "Finly ships app redesign with family accounts",
                "Version 5 of the Finly app brings a new home screen, shared family accounts and dark mode.",
            ),
        ],
    },
}

EVERGREEN: dict[str, list[Article]] = {
    "ru": [
        Article(
            "consideration",
            "price",
            "neutral",
            "Сравнили тарифы пяти необанков: Финли, {comp} и другие",
            "Мы посчитали, сколько стоит обслуживание в популярных мобильных банках при тратах 30 тысяч в месяц. "
            "Финли выигрывает по кэшбэку, но проигрывает по стоимости снятия наличных.",
        ),
        Article(
            "awareness",
            "general",
            "neutral",
            "Финли вошёл в десятку самых скачиваемых финансовых приложений",
            "По данным аналитиков, приложение Финли поднялось на {rank} место среди финансовых приложений "
            "по числу установок за месяц.",
        ),
        Article(
            "consideration",
            "trust",
            "neutral",
            "Можно ли доверять необанкам? Разбираем на примере Финли",
            "Как устроены мобильные банки вроде Финли, кто хранит деньги клиентов и что будет, если сервис закроется.",
        ),
        Article(
            "usage",
            "usability",
            "positive",
            "Пять функций Финли, о которых вы не знали",
            "Округление покупок в копилку, разделение счёта с друзьями, аналитика трат — рассказываем, "
            "как пользоваться приложением Финли на полную.",
        ),
        Article(
            "awareness",
            "general",
            "neutral",
            "Финли открыл офис в {city_ru}",
            "Финтех-компания Финли открыла клиентский центр, где можно получить карту и консультацию.",
        ),
        Article(
            "consideration",
            "price",
            "positive",
            "Лучшие карты с кэшбэком этой осени: Финли в тройке",
            "Эксперты составили рейтинг дебетовых карт с кэшбэком. Финли — на {rank} месте благодаря "
            "повышенному кэшбэку на кафе и такси.",
        ),
        Article(
            "usage",
            "response_speed",
            "neutral",
            "Как быстро доходят переводы: тест пяти банков",
            "Редакция отправила переводы из пяти банков. Финли доставил деньги за 12 секунд, "
            "{comp} — за 4 минуты.",
        ),
        Article(
            "usage",
            "support_quality",
            "negative",
            "Тайный покупатель: как отвечает поддержка необанков",
            "Мы обратились в поддержку пяти сервисов. Дольше всех ответ пришлось ждать в Финли — "
            "почти 40 минут, и первым ответил бот.",
        ),
        Article(
            "purchase",
            "delivery",
            "neutral",
            "Сколько ждать карту: доставка Финли, {comp} и других",
            "Финли обещает доставку за 1–3 дня в крупных городах, в регионах — до недели.",
        ),
        Article(
            "loyalty",
            "general",
            "positive",
            "Клиенты Финли чаще рекомендуют банк друзьям",
            "По опросу, больше половины клиентов Финли готовы рекомендовать сервис знакомым.",
        ),
        Article(
            "awareness",
            "trust",
            "neutral",
            "Финли получил сертификат безопасности платёжных данных",
            "Компания Финли прошла ежегодный аудит защиты данных держателей карт.",
        ),
    ],
    "en": [
        Article(
            "consideration",
            "price",
            "neutral",
            "Neobank fees compared: Finly, {comp_en} and more",
            "We compared monthly fees, FX markups and ATM charges. Finly wins on cashback but charges "
            "for cash withdrawals abroad.",
        ),
        Article(
            "awareness",
            "general",
            "neutral",
            "Finly climbs the finance app charts",
            "The banking app Finly reached number {rank} among finance apps by monthly downloads.",
        ),
        Article(
            "usage",
            "usability",
            "positive",
            "Finly review: a tidy app for freelancers",
            "Finly makes invoicing and multi-currency accounts painless, though support can be slow.",
        ),
        Article(
            "consideration",
            "trust",
            "neutral",
            "Who actually holds your money in Finly?",
            "A look at how app-based banks like Finly are licensed and where customer deposits sit.",
        ),
    ],
}
