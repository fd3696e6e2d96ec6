"""Cross-language retrieval check: do questions in one language find passages in another?

Twelve course topics, each written as a short passage and asked as a student question in
English, Czech and Russian (written by hand for this check, parallel in meaning). For each
pair of languages, every question ranks the twelve passages of the other language; top-1
accuracy and MRR say how well the embedding model bridges the languages.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

LANGUAGES = ("en", "cs", "ru")

# (passage en, cs, ru), (question en, cs, ru)
TOPICS: list[tuple[tuple[str, str, str], tuple[str, str, str]]] = [
    (("Breadth-first search expands the shallowest unexpanded node first, using a FIFO queue, "
      "so it finds the solution with the fewest steps.",
      "Prohledávání do šířky rozbaluje nejprve nejmělčí dosud nerozbalený uzel pomocí fronty "
      "FIFO, takže najde řešení s nejmenším počtem kroků.",
      "Поиск в ширину сначала раскрывает самый неглубокий нераскрытый узел, используя очередь "
      "FIFO, поэтому находит решение с наименьшим числом шагов."),
     ("which search finds the path with the fewest steps?",
      "které prohledávání najde cestu s nejmenším počtem kroků?",
      "какой поиск находит путь с наименьшим числом шагов?")),
    (("Gradient descent minimises a loss function by repeatedly moving the parameters a small "
      "step against the gradient.",
      "Gradientní sestup minimalizuje ztrátovou funkci tak, že opakovaně posouvá parametry o "
      "malý krok proti směru gradientu.",
      "Градиентный спуск минимизирует функцию потерь, многократно сдвигая параметры на "
      "небольшой шаг против градиента."),
     ("how do we minimise the loss by following the gradient?",
      "jak minimalizujeme ztrátu pomocí gradientu?",
      "как минимизировать потери с помощью градиента?")),
    (("Overfitting happens when a model learns the noise of the training data and performs "
      "poorly on new examples.",
      "Přeučení nastává, když se model naučí šum trénovacích dat a na nových příkladech "
      "funguje špatně.",
      "Переобучение происходит, когда модель запоминает шум обучающих данных и плохо работает "
      "на новых примерах."),
     ("why does my model do well on training data but badly on new data?",
      "proč model funguje dobře na trénovacích datech, ale špatně na nových?",
      "почему модель хорошо работает на обучающих данных, но плохо на новых?")),
    (("Bayes' rule computes the probability of a cause given an observed effect from the "
      "likelihood and the prior.",
      "Bayesova věta počítá pravděpodobnost příčiny při pozorovaném důsledku z věrohodnosti a "
      "apriorní pravděpodobnosti.",
      "Теорема Байеса вычисляет вероятность причины при наблюдаемом следствии через "
      "правдоподобие и априорную вероятность."),
     ("how do I get the probability of the cause from the effect?",
      "jak spočítám pravděpodobnost příčiny z pozorovaného důsledku?",
      "как вычислить вероятность причины по наблюдаемому следствию?")),
    (("A convolutional neural network applies small learned filters across an image to detect "
      "local patterns such as edges.",
      "Konvoluční neuronová síť aplikuje malé naučené filtry na celý obrázek a rozpoznává "
      "lokální vzory, například hrany.",
      "Свёрточная нейронная сеть применяет небольшие обучаемые фильтры ко всему изображению, "
      "чтобы находить локальные шаблоны, например края."),
     ("how does a network find edges in images?",
      "jak síť najde hrany v obrázku?",
      "как сеть находит края на изображении?")),
    (("Minimax chooses the move that maximises the player's outcome assuming the opponent "
      "always plays the best reply.",
      "Algoritmus minimax volí tah, který maximalizuje výsledek hráče za předpokladu, že "
      "soupeř vždy odpoví nejlépe.",
      "Алгоритм минимакс выбирает ход, максимизирующий результат игрока при условии, что "
      "соперник всегда отвечает наилучшим образом."),
     ("how to pick the best move against an opponent in a game?",
      "jak vybrat nejlepší tah proti soupeři ve hře?",
      "как выбрать лучший ход против соперника в игре?")),
    (("Q-learning estimates the value of taking each action in each state from rewards, "
      "without a model of the environment.",
      "Q-učení odhaduje hodnotu každé akce v každém stavu z odměn, bez modelu prostředí.",
      "Q-обучение оценивает ценность каждого действия в каждом состоянии по наградам, без "
      "модели среды."),
     ("how can an agent learn action values from rewards without a model?",
      "jak se agent naučí hodnoty akcí z odměn bez modelu?",
      "как агент учит ценности действий по наградам без модели?")),
    (("K-means clustering splits data points into k groups by alternately assigning points to "
      "the nearest centre and moving each centre to the mean of its points.",
      "Shlukování k-means rozdělí body do k skupin tak, že střídavě přiřazuje body nejbližšímu "
      "středu a přesouvá každý střed do průměru jeho bodů.",
      "Кластеризация k-средних делит точки на k групп, попеременно относя точки к ближайшему "
      "центру и перемещая каждый центр в среднее его точек."),
     ("how do I split points into k groups?",
      "jak rozdělit body do k skupin?",
      "как разбить точки на k групп?")),
    (("Attention lets a model weight the parts of its input by their relevance to the current "
      "token.",
      "Mechanismus pozornosti umožňuje modelu vážit části vstupu podle jejich relevance pro "
      "aktuální token.",
      "Механизм внимания позволяет модели взвешивать части входа по их значимости для "
      "текущего токена."),
     ("how does the model decide which input tokens matter?",
      "jak model rozhodne, které vstupní tokeny jsou důležité?",
      "как модель решает, какие входные токены важны?")),
    (("A constraint satisfaction problem asks for values of variables that satisfy every "
      "constraint, such as colouring a map so neighbours differ.",
      "Problém splňování omezení hledá hodnoty proměnných, které splní všechna omezení, "
      "například obarvení mapy tak, aby se sousedé lišili.",
      "Задача удовлетворения ограничений ищет значения переменных, удовлетворяющие всем "
      "ограничениям, например раскраску карты, где соседи различаются."),
     ("how to colour a map so that neighbours have different colours?",
      "jak obarvit mapu, aby sousedé měli různé barvy?",
      "как раскрасить карту, чтобы соседи были разного цвета?")),
    (("A decision tree classifies an example by asking a sequence of questions about its "
      "attributes, from the root down to a leaf.",
      "Rozhodovací strom klasifikuje příklad posloupností otázek na jeho atributy, od kořene "
      "až k listu.",
      "Дерево решений классифицирует пример последовательностью вопросов о его признаках, от "
      "корня до листа."),
     ("how does a tree of questions classify an example?",
      "jak strom otázek klasifikuje příklad?",
      "как дерево вопросов классифицирует пример?")),
    (("A hidden Markov model describes a sequence of hidden states that change over time and "
      "emit observations.",
      "Skrytý Markovův model popisuje posloupnost skrytých stavů, které se v čase mění a "
      "generují pozorování.",
      "Скрытая марковская модель описывает последовательность скрытых состояний, которые "
      "меняются во времени и порождают наблюдения."),
     ("which model has hidden states that emit observations over time?",
      "který model má skryté stavy, které v čase generují pozorování?",
      "какая модель имеет скрытые состояния, порождающие наблюдения во времени?")),
]


def cross_language(encode_passages: Callable[[list[str]], np.ndarray],
                   encode_queries: Callable[[list[str]], np.ndarray],
                   languages: Sequence[str] = LANGUAGES) -> list[dict[str, float | str]]:
    """Top-1 accuracy and MRR for every (question language, passage language) pair."""
    idx = {lang: i for i, lang in enumerate(LANGUAGES)}
    passages = {lang: np.asarray(encode_passages([t[0][idx[lang]] for t in TOPICS]))
                for lang in languages}
    questions = {lang: np.asarray(encode_queries([t[1][idx[lang]] for t in TOPICS]))
                 for lang in languages}
    rows = []
    for q in languages:
        for p in languages:
            sims = questions[q] @ passages[p].T
            ranks = [int((row > row[i]).sum()) + 1 for i, row in enumerate(sims)]
            rows.append({"question": q, "passages": p,
                         "top1": round(float(np.mean([r == 1 for r in ranks])), 3),
                         "mrr": round(float(np.mean([1 / r for r in ranks])), 3)})
    return rows


def summary(rows: Sequence[dict]) -> dict[str, float]:
    same = [r for r in rows if r["question"] == r["passages"]]
    cross = [r for r in rows if r["question"] != r["passages"]]
    return {"same_language_top1": round(float(np.mean([r["top1"] for r in same])), 3),
            "cross_language_top1": round(float(np.mean([r["top1"] for r in cross])), 3),
            "cross_language_mrr": round(float(np.mean([r["mrr"] for r in cross])), 3),
            "chance_top1": round(1 / len(TOPICS), 3)}
